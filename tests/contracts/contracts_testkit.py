"""Helpers for the contract tests: paths, a free port, pacts read as generated."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ERP = ROOT / "contracts" / "vendors" / "erp"
PACTS = ROOT / "contracts" / "pacts"
REFRESHING = os.environ.get("LIFECYCLE_REFRESH_PACTS") == "1"
"""``make pacts``: the tests that generate pacts copy them over the committed ones."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def normalise(path: Path) -> Any:
    """A pact file without what changes with library versions (pact-python, FFI)."""
    data = json.loads(path.read_text())
    for key in ("pactRust", "pactPython"):
        data.get("metadata", {}).pop(key, None)
    return data


def rename_field(monkeypatch: Any, model: type, old: str, new: str) -> None:
    """Make a vendor model's records answer ``new`` where they answered ``old``: a
    provider that breaks what the pacts rely on."""
    real = model.body  # type: ignore[attr-defined]

    def renamed(self: Any) -> dict[str, Any]:
        body: dict[str, Any] = real(self)
        body[new] = body.pop(old)
        return body

    monkeypatch.setattr(model, "body", renamed)
