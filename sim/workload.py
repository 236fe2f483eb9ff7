"""The workload: the CRM's book of accounts, and deals closing as a Poisson process.

Accounts are made once per run from ``faker``'s en_US company name forms and
surname frequencies (names, billing e-mails), like a sales floor's existing
customer list; deals then close at random moments, at the scenario's average rate,
each for one of those accounts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from faker.providers.company.en_US import Provider as Companies
from faker.providers.person.en_US import Provider as People

from orchestrator.deal import Deal, Line
from sim.rng import Streams
from sim.systems.crm import Account

__all__ = ["Plan", "account_changes", "accounts", "deals"]

Plan = tuple[str, str, float, int, int]
"""``(name, sku, unit price, fewest seats, most seats)``."""


def accounts(
    streams: Streams, count: int, currencies: Sequence[str], inactive_rate: float
) -> list[Account]:
    """The CRM's accounts: ``count`` companies, a share of them not active.

    Args:
        streams: The run's random streams.
        count: How many accounts.
        currencies: Currencies accounts trade in, picked uniformly.
        inactive_rate: Share of accounts whose status is ``inactive``.
    """
    gen = streams.get("workload.accounts")
    names = company_names(np.random.default_rng(int(gen.integers(0, 2**31))), count)
    pick = gen.integers(0, len(currencies), count).tolist()
    dormant = (gen.random(count) < inactive_rate).tolist()
    book = []
    for n in range(count):
        name = names[n]
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        book.append(
            Account(
                f"ACC-{n + 1:06d}",
                name,
                f"billing@{slug}.example.com",
                currencies[pick[n]],
                "inactive" if dormant[n] else "active",
                billing_address=f"{(n * 37) % 900 + 100} Market Street, Springfield",
            )
        )
    return book


def company_names(gen: np.random.Generator, count: int) -> list[str]:
    """``count`` company names in faker's en_US forms ("Smith LLC", "Lee-Diaz", ...).

    Drawn in bulk with ``gen``, in faker's forms and with surnames as often as its
    frequency table has them: names like faker's, twenty times faster than asking
    faker for them one at a time (which was most of a world's set-up).
    """
    surnames = list(People.last_names)
    weights = np.fromiter(People.last_names.values(), float, len(surnames))
    forms = [_template(form) for form in Companies.formats]
    suffixes = list(Companies.company_suffixes)
    chosen = gen.choice(len(surnames), size=(count, 3), p=weights / weights.sum()).tolist()
    form_of = gen.integers(0, len(forms), count).tolist()
    suffix_of = gen.integers(0, len(suffixes), count).tolist()
    return [
        forms[form_of[n]].format(*(surnames[i] for i in chosen[n]), s=suffixes[suffix_of[n]])
        for n in range(count)
    ]


def _template(form: str) -> str:
    """A faker format (``{{last_name}}-{{last_name}}``) as a ``str.format`` template."""
    parts = form.replace("{{company_suffix}}", "{s}").split("{{last_name}}")
    return "".join(
        part + (f"{{{n}}}" if n < len(parts) - 1 else "") for n, part in enumerate(parts)
    )


def deals(
    streams: Streams,
    book: Sequence[Account],
    plans: Sequence[Plan],
    per_hour: float,
    offered: Callable[[str], bool] | None = None,
) -> Iterator[tuple[float, Deal]]:
    """Deals forever, as ``(seconds since the previous deal, deal)``.

    Gaps are exponential (a Poisson process at ``per_hour``); each deal picks an
    account and a plan uniformly and a seat count uniformly in the plan's range.
    ``offered(sku)`` is the sales catalogue: a plan no longer offered gives way to the
    next one that is (the draws stay the same, so runs stay comparable).
    """
    gaps = streams.get("workload.arrivals")
    picks = streams.get("workload.deals")
    mean_gap = 3600.0 / per_hour
    n = 0
    while True:
        gap_batch = gaps.exponential(mean_gap, 1024).tolist()
        who = picks.integers(0, len(book), 1024).tolist()
        what = picks.integers(0, len(plans), 1024).tolist()
        size = picks.random(1024).tolist()
        for i in range(1024):
            n += 1
            account = book[who[i]]
            pick = what[i]
            if offered is not None:
                for step in range(len(plans)):
                    if offered(plans[(pick + step) % len(plans)][1]):
                        pick = (pick + step) % len(plans)
                        break
            name, sku, price, fewest, most = plans[pick]
            seats = fewest + int(size[i] * (most - fewest + 1))
            lines = (Line(sku, seats, price),)
            yield gap_batch[i], Deal(f"D-{n:06d}", account.id, account.currency, name, lines)


def account_changes(
    streams: Streams, book: Sequence[Account], per_hour: float
) -> Iterator[tuple[float, str, str]]:
    """Edits of CRM accounts forever, as ``(gap in seconds, account id, new e-mail)``.

    A Poisson process at ``per_hour``; each edit picks an account uniformly and gives
    it a new billing e-mail.
    """
    gen = streams.get("workload.account_changes")
    mean_gap = 3600.0 / per_hour
    n = 0
    while True:
        gaps = gen.exponential(mean_gap, 256).tolist()
        who = gen.integers(0, len(book), 256).tolist()
        for i in range(256):
            n += 1
            account = book[who[i]]
            user, _, domain = account.email.partition("@")
            yield gaps[i], account.id, f"{user}+{n}@{domain}"
