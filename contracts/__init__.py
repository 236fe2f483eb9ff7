"""Contract gate: OpenAPI documents, Pact files, and the checks between them.

``contracts`` stands alone (it imports nothing from ``orchestrator``, ``sim`` or
``mocks``). Its commands, mounted as ``lifecycle-sandbox contracts``:

- ``diff OLD NEW``: graded backward-compatibility changes between two documents;
- ``gate --provider P --spec NEW --pacts DIR``: whether each pact interaction
  with provider ``P`` still holds against ``NEW``;
- ``verify --provider P --base-url URL --pacts DIR``: the Pact verifier replays
  the interactions against a running provider.
"""

from typing import Any

__all__ = ["contracts_app"]


def __getattr__(name: str) -> Any:
    # Importing a submodule (``python -m contracts.catalogue``) need not load the CLI.
    if name == "contracts_app":
        from contracts.cli import contracts_app

        return contracts_app
    raise AttributeError(name)
