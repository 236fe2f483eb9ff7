"""The input of the lifecycle: a deal that sales just closed in the CRM.

Deals are named tuples, like effects: immutable values, cheap to make by the
ten thousand. In an event a deal travels as plain JSON (``as_json``, ``from_json``):
events cross process boundaries in the live runtime, an outbox table, a pact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["Deal", "Line"]


class Line(NamedTuple):
    """One product line of a deal."""

    sku: str
    quantity: int
    unit_price: float


class Deal(NamedTuple):
    """A closed-won opportunity, the trigger of quote-to-cash.

    Attributes:
        id: The deal id, e.g. ``"D-000042"``; workflow ids and keys derive from it.
        account_id: The CRM account that bought.
        currency: ISO currency of the deal.
        plan: The subscription plan sold.
        lines: Product lines; the first line's quantity is the seat count.
    """

    id: str
    account_id: str
    currency: str
    plan: str
    lines: tuple[Line, ...]

    @property
    def total(self) -> float:
        """The deal's amount: the sum of its lines, rounded to cents."""
        total = 0.0
        for line in self.lines:
            total += line.quantity * line.unit_price
        return round(total, 2)

    @property
    def seats(self) -> int:
        """Seats to provision: the quantity of the first line."""
        return self.lines[0].quantity

    def as_json(self) -> dict[str, Any]:
        """The deal as an event carries it."""
        return {
            "id": self.id,
            "accountId": self.account_id,
            "currency": self.currency,
            "plan": self.plan,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unitPrice": line.unit_price}
                for line in self.lines
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deal:
        """The deal an event carried (see ``as_json``); the event is trusted to be
        one ``as_json`` wrote (the hot path of every event-driven deal)."""
        lines = tuple([Line(x["sku"], x["quantity"], x["unitPrice"]) for x in data["lines"]])
        return cls(data["id"], data["accountId"], data["currency"], data["plan"], lines)
