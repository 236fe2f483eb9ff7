"""Vendor models: deterministic state machines named like their OpenAPI operations."""

from sim.systems.base import Ledger, Reply, Vendor, VendorError
from sim.systems.billing import Billing
from sim.systems.crm import Crm
from sim.systems.erp import Erp
from sim.systems.provisioning import Provisioning
from sim.systems.support import Support

VENDORS: dict[str, type[Vendor]] = {
    "crm": Crm,
    "erp": Erp,
    "billing": Billing,
    "provisioning": Provisioning,
    "support": Support,
}
"""Every vendor model by system name."""

__all__ = [
    "VENDORS",
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
