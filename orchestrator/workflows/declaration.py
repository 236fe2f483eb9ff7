"""What the world must know about one kind of workflow: its ids and how it ends.

A declaration is the label on a filing-cabinet drawer: the prefix every folder in
it carries (``q2c:D-000042``, ``amend:D-000042:3``), and the coloured tabs that say
how a case was closed (live, compensated, escalated, ...). The metrics, the report
and the crash handler read the drawer's label; none of them lists the workflows.
"""

from __future__ import annotations

from typing import NamedTuple

from orchestrator.events import Endings

__all__ = ["Declaration", "deal_of"]


class Declaration(NamedTuple):
    """One kind of workflow, as the books see it.

    Attributes:
        prefix: Namespace of its ids (``"q2c"``): ``<prefix>:<deal>[:<more>]``, so
            its idempotency keys never meet another workflow's.
        noun: What one run is called in metrics and reports (``"amendment"``:
            ``amendments requested``, ``amendment p50 p95 p99``).
        done: The topic announcing that a run finished as meant.
        done_as: The ending that topic stands for (``"completed"``, ``"applied"``).
        endings: The topics announcing every other ending (``settle`` publishes them).
    """

    prefix: str
    noun: str
    done: str
    done_as: str
    endings: Endings

    def id(self, deal_id: str, *more: object) -> str:
        """The id of one run for ``deal_id``: ``q2c:D-1``, ``amend:D-1:2``."""
        return ":".join((self.prefix, deal_id, *map(str, more)))

    def owns(self, workflow_id: str) -> bool:
        """Whether ``workflow_id`` is one of this declaration's runs."""
        return workflow_id.startswith(f"{self.prefix}:")

    def outcomes(self) -> dict[str, str]:
        """Terminal topic -> the ending it announces, for every ending."""
        return {self.done: self.done_as, **dict(zip(self.endings, Endings._fields, strict=True))}


def deal_of(workflow_id: str) -> str:
    """The deal a namespaced workflow id belongs to (``amend:D-1:2`` -> ``D-1``)."""
    return workflow_id.split(":", 2)[1]
