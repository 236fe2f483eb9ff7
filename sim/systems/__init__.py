"""Vendor models: deterministic state machines named like their OpenAPI operations.

``sim.vendors`` registers each one (knobs, build, audit checks).
"""

from sim.systems.base import Ledger, Reply, Vendor, VendorError
from sim.systems.billing import Billing
from sim.systems.crm import Crm
from sim.systems.erp import Erp
from sim.systems.provisioning import Provisioning
from sim.systems.support import Support

__all__ = [
    "Billing",
    "Crm",
    "Erp",
    "Ledger",
    "Provisioning",
    "Reply",
    "Support",
    "Vendor",
    "VendorError",
]
