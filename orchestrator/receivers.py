"""Receivers of vendor webhooks: verify, drop duplicates, apply only what is newer.

A receiver is the post room of the integration tier. For every delivery it checks
the seal (a signed vendor's HMAC signature and its timestamp), asks the order
store whether this event id was already handled (a webhook may come twice, the
second time days later), applies the change through the same careful client as
every other call, and notes the id as handled. State-like changes (a payment
status, an entitlement's state, a customer's name) are written conditionally:
the target holds the source's version and refuses an older one, so an update that
overtook another on the way cannot be overwritten by it. Entry-like changes (a
payment posted to the ledger) cannot be versioned: only the idempotency key and
the memory of handled events keep them single.

Each handler returns its outcome (``applied``, ``duplicate``, ``stale``,
``skipped``); a refused signature raises, so the vendor delivers again, freshly
signed. The anti-pattern switches: ``policy.dedupe`` off skips the memory,
``policy.ordering`` off writes unconditionally (the last delivery wins).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.client import Client
from orchestrator.consumers import noted, seen
from orchestrator.effects import NOW, Workflow
from orchestrator.errors import Conflict, PoisonMessage, Rejected, Retryable
from orchestrator.events import ONBOARDING_COMPLETED, Message, Subscription, webhook_topic
from orchestrator.signatures import HEADER, verify

__all__ = ["NotYet", "SignatureRefused", "receivers"]

REQUIRED: Mapping[str, tuple[str, ...]] = {
    "invoice.paid": ("id", "salesOrderId", "amount", "version"),
    "invoice.payment_failed": ("id", "salesOrderId", "version"),
    "customer.subscription.updated": ("id", "status", "version"),
    "entitlement.activated": ("id", "accountId", "status", "version"),
    "entitlement.suspended": ("id", "accountId", "status", "version"),
    "case.resolved": ("id", "accountId", "version"),
    "account.updated": ("id", "name", "email", "version"),
}
"""Each event type's required data fields: an event without them is poison."""

SIGNED = frozenset({"billing"})
"""Vendors whose webhooks carry an HMAC signature."""


class SignatureRefused(Rejected):
    """A webhook whose signature does not hold; the vendor will send it again."""


class NotYet(Retryable):
    """The record an event is about does not exist yet; deliver it again later."""


Apply = Callable[["Receiver", Message, Mapping[str, Any], str], Workflow]


class Receiver:
    """The receiver of one vendor's webhooks.

    Args:
        system: The vendor.
        client: The client every call goes through.
        apply: Per event type, the work that applies it.
    """

    def __init__(self, system: str, client: Client, apply: Mapping[str, Apply]) -> None:
        self.system = system
        self.client = client
        self.apply = apply
        self.aliases: dict[str, str] = {}
        """A tolerant reader's hotfix: a field's new name in an event's data -> the name
        the receiver reads (the signature is still checked on the event as sent)."""

    def __call__(self, message: Message) -> Workflow:
        """Handle one delivery (the consumer group's handler)."""
        payload = message.payload
        kind = str(payload.get("type", ""))
        data = payload.get("data")
        apply = self.apply.get(kind)
        if apply is None or not isinstance(data, Mapping):
            raise PoisonMessage(f"{self.system} sent an event of unknown shape {kind!r}")
        if self.aliases:
            data = {self.aliases.get(field, field): value for field, value in data.items()}
        missing = [f for f in REQUIRED.get(kind, ()) if f not in data]
        if missing:
            raise PoisonMessage(f"{kind} {payload.get('id')} lacks {', '.join(missing)}")
        policy = self.client.policy
        deal = str(data.get("dealId") or message.key)
        if self.system in SIGNED:
            now = yield NOW
            secret = policy.webhook_secrets.get(self.system, "")
            problem = verify(
                message.headers.get(HEADER), secret, payload, now, policy.webhook_tolerance
            )
            if problem is not None:
                raise SignatureRefused(self.system, "webhook", 400, f"SIGNATURE_{problem.upper()}")
        event_id = str(payload.get("id", message.id))
        if policy.dedupe and (yield from seen(self.client, deal, self.system, event_id)):
            return "duplicate"
        outcome = yield from apply(self, message, data, deal)
        if policy.dedupe:
            yield from noted(self.client, deal, self.system, event_id)
        return outcome

    def versioned(
        self, deal: str, step: str, system: str, operation: str, params: Mapping[str, Any]
    ) -> Workflow:
        """A conditional write: refused as stale when the target holds a newer version.

        Returns:
            ``applied``, or ``stale`` when the target already held something newer.
        """
        body = {**params, "ifNewer": self.client.policy.ordering}
        try:
            # A versioned write is its own idempotency (the same version twice is
            # refused as stale), so it takes no key: with one, the vendor would replay
            # a stored 404 to every later delivery, even once the record exists.
            yield from self.client.call(deal, step, system, operation, body, write=False)
        except Conflict as exc:
            if exc.code != "STALE_VERSION":
                raise
            return "stale"
        return "applied"


# -- billing: payments reach the ERP, a cancelled subscription suspends its seats ----------


def _invoice_paid(
    receiver: Receiver, message: Message, data: Mapping[str, Any], deal: str
) -> Workflow:
    client = receiver.client
    invoice = str(data["id"])
    yield from client.call(
        deal,
        f"payment:{invoice}",
        "erp",
        "recordPayment",
        {
            "salesOrderId": data["salesOrderId"],
            "amount": data["amount"],
            "paidAt": data.get("paidAt"),
            "reference": invoice,
        },
    )
    return (
        yield from receiver.versioned(
            deal,
            f"receivable:{invoice}:{data['version']}",
            "erp",
            "updateReceivable",
            {
                "salesOrderId": data["salesOrderId"],
                "status": "paid",
                "paidAt": data.get("paidAt"),
                "sourceVersion": data["version"],
            },
        )
    )


def _payment_failed(
    receiver: Receiver, message: Message, data: Mapping[str, Any], deal: str
) -> Workflow:
    return (
        yield from receiver.versioned(
            deal,
            f"receivable:{data['id']}:{data['version']}",
            "erp",
            "updateReceivable",
            {
                "salesOrderId": data["salesOrderId"],
                "status": "past_due",
                "sourceVersion": data["version"],
            },
        )
    )


def _subscription_updated(
    receiver: Receiver, message: Message, data: Mapping[str, Any], deal: str
) -> Workflow:
    status = str(data["status"])
    if status not in ("active", "cancelled"):
        return "skipped"  # past due: the seats stay until the subscription is cancelled
    try:
        return (
            yield from receiver.versioned(
                deal,
                f"seats:{data['id']}:{data['version']}",
                "provisioning",
                "updateEntitlement",
                {
                    "subscriptionId": data["id"],
                    "status": "suspended" if status == "cancelled" else "active",
                    "sourceVersion": data["version"],
                },
            )
        )
    except Rejected as exc:
        if exc.status != 404:
            raise
        if data.get("cancellation") == "payment_failed":
            # Dunning won the race against provisioning: the seats are still to come
            # (a queued fulfilment) and must not stay active. Ask for it again later.
            raise NotYet("provisioning", "updateEntitlement", 404, "ENTITLEMENT_NOT_YET") from exc
        return "skipped"  # cancelled on our own request, before it was ever provisioned


# -- provisioning and support: the CRM shows what the customer has -------------------------


def _status_to_crm(source: str, status: Callable[[Mapping[str, Any]], str]) -> Apply:
    def apply(receiver: Receiver, message: Message, data: Mapping[str, Any], deal: str) -> Workflow:
        return (
            yield from receiver.versioned(
                deal,
                f"crm-{source}:{data['id']}:{data['version']}",
                "crm",
                "recordStatus",
                {
                    "accountId": data["accountId"],
                    "source": source,
                    "entity": data["id"],
                    "status": status(data),
                    "sourceVersion": data["version"],
                },
            )
        )

    return apply


def _case_resolved(
    receiver: Receiver, message: Message, data: Mapping[str, Any], deal: str
) -> Workflow:
    outcome = yield from _status_to_crm("support", lambda _: "resolved")(
        receiver, message, data, deal
    )
    if outcome == "applied" and data.get("type") == "onboarding":
        yield from receiver.client.publish(ONBOARDING_COMPLETED, deal, {"caseId": data["id"]})
    return outcome


# -- CRM: an edited account reaches the ERP and billing -------------------------------------


def _account_updated(
    receiver: Receiver, message: Message, data: Mapping[str, Any], deal: str
) -> Workflow:
    outcomes = []
    for system, name_field in (("erp", "companyName"), ("billing", "name")):
        try:
            outcome = yield from receiver.versioned(
                deal,
                f"account-{system}:{data['id']}:{data['version']}",
                system,
                "updateCustomer",
                {
                    "externalId": data["id"],
                    name_field: data["name"],
                    "email": data["email"],
                    "sourceVersion": data["version"],
                },
            )
        except Rejected as exc:
            if exc.status != 404:
                raise
            outcome = "skipped"  # no customer there yet: the first order will create it
        outcomes.append(outcome)
    return "applied" if "applied" in outcomes else outcomes[0]


APPLY: Mapping[str, Mapping[str, Apply]] = {
    "billing": {
        "invoice.paid": _invoice_paid,
        "invoice.payment_failed": _payment_failed,
        "customer.subscription.updated": _subscription_updated,
    },
    "provisioning": {
        "entitlement.activated": _status_to_crm("provisioning", lambda d: str(d["status"])),
        "entitlement.suspended": _status_to_crm("provisioning", lambda d: str(d["status"])),
    },
    "support": {"case.resolved": _case_resolved},
    "crm": {"account.updated": _account_updated},
}
"""Per vendor, per event type: how the event is applied."""


def receivers(client: Client, systems: tuple[str, ...]) -> list[Subscription]:
    """The consumer groups that receive the webhooks of ``systems``.

    Args:
        client: The client every call goes through.
        systems: The vendors that send webhooks in this run.

    Returns:
        One subscription per vendor, on its webhook topic.
    """
    return [
        Subscription(
            webhook_topic(system), f"{system}-receiver", Receiver(system, client, APPLY[system])
        )
        for system in systems
        if system in APPLY
    ]
