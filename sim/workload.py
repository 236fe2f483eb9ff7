"""The workload: the CRM's book of accounts, and deals closing as a Poisson process.

Accounts are made once per run with a seeded ``faker`` (company names, billing
e-mails), like a sales floor's existing customer list; deals then close at random
moments, at the scenario's average rate, each for one of those accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from faker import Faker

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
    fake = Faker("en_US")
    fake.seed_instance(int(gen.integers(0, 2**31)))
    pick = gen.integers(0, len(currencies), count).tolist()
    dormant = (gen.random(count) < inactive_rate).tolist()
    book = []
    for n in range(count):
        name = fake.company()
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        book.append(
            Account(
                f"ACC-{n + 1:06d}",
                name,
                f"billing@{slug}.example.com",
                currencies[pick[n]],
                "inactive" if dormant[n] else "active",
            )
        )
    return book


def deals(
    streams: Streams, book: Sequence[Account], plans: Sequence[Plan], per_hour: float
) -> Iterator[tuple[float, Deal]]:
    """Deals forever, as ``(seconds since the previous deal, deal)``.

    Gaps are exponential (a Poisson process at ``per_hour``); each deal picks an
    account and a plan uniformly and a seat count uniformly in the plan's range.
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
            name, sku, price, fewest, most = plans[what[i]]
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
