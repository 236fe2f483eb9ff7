"""Deprecation and sunset: when may something be removed without breaking clients?

A deprecation is a notice period, like a lease ending: a resource marked
``deprecated: true`` may go away, and ``x-sunset: 2026-06-30`` says when. Removing
it earlier breaks the promise; moving the date earlier or dropping it does too.
With a grace period (``--deprecation-days N``), a deprecation must name a sunset
at least N days after the day of the check.

The day of the check is a parameter, never read here, so that a CI job can pin it
(``--today``) and get the same verdict tomorrow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Lifecycle:
    """The deprecation policy a diff applies.

    Attributes:
        today: The day the check runs as.
        deprecation_days: Minimum days between a deprecation and its sunset; 0
            lets a deprecation go without a sunset date.
    """

    today: dt.date
    deprecation_days: int = 0


def parse_sunset(text: str) -> dt.date | None:
    """Read an ``x-sunset`` value: an RFC 3339 date or date-time.

    Args:
        text: The value as written.

    Returns:
        The date, or ``None`` when it does not parse.
    """
    value = text.strip()
    try:
        return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Verdict:
    """One lifecycle finding: its kind and a sentence.

    Attributes:
        kind: A finding identifier.
        message: What happened.
    """

    kind: str
    message: str


def on_removal(
    what: str, deprecated: bool, sunset: str | None, policy: Lifecycle
) -> Verdict | None:
    """Judge the removal of something that existed in the old document.

    Args:
        what: Names the thing (``operation GET /a``, ``property 'x'``).
        deprecated: Whether the old document deprecated it.
        sunset: Its old ``x-sunset``, if any.
        policy: The policy.

    Returns:
        ``removed-before-sunset`` (too early), ``removed-after-deprecation`` (fine),
        or ``None`` when it was not deprecated (the caller reports a plain removal).
    """
    if not deprecated:
        return None
    if sunset is not None:
        date = parse_sunset(sunset)
        if date is None:
            return Verdict(
                "sunset-invalid",
                f"{what} was removed, but its x-sunset {sunset!r} is not a date, so whether "
                "the notice period is over cannot be told",
            )
        if date > policy.today:
            return Verdict(
                "removed-before-sunset",
                f"{what} was removed before its sunset date {date.isoformat()} "
                f"(today is {policy.today.isoformat()})",
            )
    return Verdict("removed-after-deprecation", f"{what} was deprecated, then removed")


def on_change(
    what: str,
    old_deprecated: bool,
    old_sunset: str | None,
    new_deprecated: bool,
    new_sunset: str | None,
    policy: Lifecycle,
) -> list[Verdict]:
    """Judge a change of deprecation or sunset on something both documents have.

    Args:
        what: Names the thing.
        old_deprecated: Deprecated in the old document.
        old_sunset: Its old ``x-sunset``.
        new_deprecated: Deprecated in the new document.
        new_sunset: Its new ``x-sunset``.
        policy: The policy.

    Returns:
        The verdicts, possibly none.
    """
    found: list[Verdict] = []
    new_date = parse_sunset(new_sunset) if new_sunset is not None else None
    if new_sunset is not None and new_date is None and new_sunset != old_sunset:
        found.append(
            Verdict("sunset-invalid", f"{what} has an x-sunset that is not a date: {new_sunset!r}")
        )
    elif old_sunset is not None and parse_sunset(old_sunset) is None and old_sunset != new_sunset:
        found.append(
            Verdict(
                "sunset-invalid",
                f"{what} had an x-sunset that is not a date ({old_sunset!r}), so the change "
                "cannot be checked against it",
            )
        )
    if new_deprecated and not old_deprecated:
        if policy.deprecation_days and new_sunset is None:
            found.append(
                Verdict(
                    "deprecated-without-sunset",
                    f"{what} was deprecated without an x-sunset date (the policy asks for "
                    f"{policy.deprecation_days} days' notice)",
                )
            )
        elif (
            policy.deprecation_days
            and new_date is not None
            and (new_date - policy.today).days < policy.deprecation_days
        ):
            found.append(
                Verdict(
                    "sunset-too-soon",
                    f"{what} was deprecated with sunset {new_date.isoformat()}, less than "
                    f"{policy.deprecation_days} days after {policy.today.isoformat()}",
                )
            )
        else:
            when = f" (sunset {new_sunset})" if new_sunset else ""
            found.append(Verdict("deprecated", f"{what} was deprecated{when}"))
    if old_deprecated and new_deprecated and old_sunset is not None:
        old_date = parse_sunset(old_sunset)
        if new_sunset is None:
            found.append(Verdict("sunset-removed", f"{what} lost its x-sunset date {old_sunset}"))
        elif old_date is not None and new_date is not None and new_date < old_date:
            found.append(
                Verdict(
                    "sunset-moved-earlier",
                    f"{what}'s sunset moved earlier, from {old_date.isoformat()} to "
                    f"{new_date.isoformat()}",
                )
            )
    if old_deprecated and not new_deprecated:
        found.append(Verdict("reactivated", f"{what} is no longer deprecated"))
    return found


def sunset_of(node: dict[str, object]) -> str | None:
    """The ``x-sunset`` an OpenAPI object declares, as text.

    Args:
        node: An operation, parameter or schema object.

    Returns:
        The text, or ``None``.
    """
    value = node.get("x-sunset")
    return str(value) if value is not None else None


def removal_of(what: str, node: dict[str, object], policy: Lifecycle) -> Verdict | None:
    """:func:`on_removal` for an object as written.

    Args:
        what: Names the thing.
        node: The object in the old document.
        policy: The policy.

    Returns:
        As :func:`on_removal`.
    """
    return on_removal(what, node.get("deprecated") is True, sunset_of(node), policy)


def changes_between(
    what: str, old: dict[str, object], new: dict[str, object], policy: Lifecycle
) -> list[Verdict]:
    """:func:`on_change` for two objects as written.

    Args:
        what: Names the thing.
        old: The object in the old document.
        new: The object in the new document.
        policy: The policy.

    Returns:
        As :func:`on_change`.
    """
    return on_change(
        what,
        old.get("deprecated") is True,
        sunset_of(old),
        new.get("deprecated") is True,
        sunset_of(new),
        policy,
    )
