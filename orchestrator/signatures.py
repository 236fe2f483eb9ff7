"""Webhook signatures: HMAC-SHA256 over the timestamp and the body, Stripe style.

A signed webhook is a sealed envelope with a postmark: the vendor seals
``timestamp.body`` with a secret both sides share and writes the time on it
(``t=1700000000,v1=5257a8...``). The receiver breaks the seal only if it reseals
the same way and the postmark is recent: a forged body fails the first test, an old
delivery replayed later fails the second. Pure functions: the time is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["HEADER", "body_text", "sign", "verify"]

HEADER = "Webhook-Signature"
"""The header a signed webhook carries."""


def body_text(payload: Mapping[str, Any]) -> str:
    """The body as sent: compact JSON with sorted keys (the same bytes every time)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def sign(secret: str, timestamp: float, payload: Mapping[str, Any]) -> str:
    """The signature header's value for ``payload`` sent at ``timestamp``.

    Args:
        secret: The shared secret.
        timestamp: When the delivery is sent, in seconds.
        payload: The body.

    Returns:
        ``t=<seconds>,v1=<hex digest>``.
    """
    stamp = f"{timestamp:.3f}"
    digest = hmac.new(
        secret.encode(), f"{stamp}.{body_text(payload)}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(
    header: str | None, secret: str, payload: Mapping[str, Any], now: float, tolerance: float
) -> str | None:
    """Check a signature header.

    Args:
        header: The ``Webhook-Signature`` header, if any.
        secret: The shared secret.
        payload: The body received.
        now: The receiver's time.
        tolerance: How old the timestamp may be, in seconds.

    Returns:
        None when the signature holds; otherwise why not (``missing``,
        ``malformed``, ``mismatch``, ``stale``).
    """
    if not header:
        return "missing"
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts or "v1" not in parts:
        return "malformed"
    try:
        stamp = float(parts["t"])
    except ValueError:
        return "malformed"
    expected = sign(secret, stamp, payload).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts["v1"]):
        return "mismatch"
    if abs(now - stamp) > tolerance:
        return "stale"
    return None
