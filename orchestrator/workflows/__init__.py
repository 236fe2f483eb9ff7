"""Lifecycle workflows, one module each, written as generators of effects.

``WORKFLOWS`` is the one registry: each module declares its kind of workflow
(``DECLARED``: id prefix, outcome topics) and is listed here; the metrics, the
report and the runtime's crash handling are derived from this list.
"""

from orchestrator.workflows import amendment, quote_to_cash
from orchestrator.workflows.declaration import Declaration, deal_of

__all__ = ["LATER", "WORKFLOWS", "Declaration", "deal_of", "declared"]

WORKFLOWS: tuple[Declaration, ...] = (quote_to_cash.DECLARED, amendment.DECLARED)
"""Every kind of workflow, the deal's first order first."""
LATER: tuple[Declaration, ...] = WORKFLOWS[1:]
"""The workflows after the first order (amendments): each kept in its own books, while
the first order's are the deal's headline metrics."""


def declared(workflow_id: str) -> Declaration | None:
    """The declaration ``workflow_id`` belongs to, or None for an undeclared id
    (a relay, a batcher, a reconciliation run)."""
    for declaration in WORKFLOWS:
        if declaration.owns(workflow_id):
            return declaration
    return None
