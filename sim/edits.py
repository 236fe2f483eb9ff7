"""People editing customer master data in the systems' own screens.

In a real company the customer's name is changed in the CRM by sales, the billing
address in billing by finance, and now and then someone fixes a name directly in
the ERP because a document looked wrong: an edit in a system that does not own the
field (a stray edit). Sales also merges two accounts that turn out to be one company,
product management retires a SKU, and pricing changes a plan's price in one currency
(now and then sales ops edits the CPQ price list directly: a stray price change).
``edits`` is that office, a SimPy process drawing each kind of edit as a Poisson
process at the scenario's rates, and making it at the system's model, which
announces it on its change feed for the integration to propagate.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

import simpy

from sim.rng import Streams
from sim.scenario import MasterDataKnobs
from sim.systems.crm import Account, Crm
from sim.systems.profile import FIELDS, ProfileHolder

__all__ = ["Tally", "edits"]

DAY = 86400.0


class Tally:
    """What the office did: edits at the owners, stray edits, merges; and what the
    owners meant each field to be (``intended``: the CRM's starting values, then each
    owner's own edits), which the ownership property checks the copies against."""

    def __init__(self, book: Sequence[Account] = ()) -> None:
        self.owner_edits = 0
        self.stray_edits = 0
        self.merges = 0
        self.retirements = 0
        self.price_changes = 0
        self.stray_price_changes = 0
        self.intended: dict[tuple[str, str], str | float] = {
            (a.id, field): getattr(a, field) for a in book for field in FIELDS
        }

    def list_prices(self, prices: Mapping[tuple[str, str], float]) -> None:
        """The price list everyone starts from: what the owner means until it changes."""
        for (sku, currency), price in prices.items():
            self.intended[(f"{sku}:{currency}", "price")] = price


def edits(
    env: simpy.Environment,
    knobs: MasterDataKnobs,
    owners: Mapping[str, str],
    holders: Mapping[str, ProfileHolder],
    book: Sequence[Account],
    streams: Streams,
    tally: Tally,
    going: Callable[[], bool],
    skus: Sequence[str] = (),
) -> Generator[simpy.Event, Any, None]:
    """Edits forever, until ``going()`` says the run is over (a SimPy process).

    Args:
        env: The clock.
        knobs: The rates.
        owners: Field -> the system that owns it (who edits it legitimately).
        holders: System -> its model (the CRM, the ERP, billing).
        book: The CRM's accounts.
        streams: The run's random streams.
        tally: Counts what was done.
        going: Whether the run still takes new work.
        skus: The SKUs sold, which the catalogue's owner may retire.
    """
    rates = (
        knobs.edits_per_day,
        knobs.stray_edits_per_day,
        knobs.merges_per_day,
        knobs.sku_retirements_per_month / 30,
        knobs.price_changes_per_month / 30,
        knobs.stray_price_changes_per_month / 30,
    )
    bounds = list(itertools.accumulate(rates))
    total = sum(rates) / DAY
    if not total:
        return
    gen = streams.get("workload.master_data")
    crm = holders["crm"]
    assert isinstance(crm, Crm)
    n = 0
    while True:
        yield env.timeout(float(gen.exponential(1.0 / total)))
        if not going():
            return
        n += 1
        pick = float(gen.random()) * sum(rates)
        account = book[int(gen.integers(0, len(book)))]
        if pick >= bounds[3]:
            _reprice(pick < bounds[4], owners, holders, gen, tally, env.now)
            continue
        if pick >= bounds[2]:
            catalogue = holders[owners.get("product", "erp")]
            offered = [sku for sku in skus if sku not in catalogue.retired]
            if len(offered) > 1:  # the last one offered stays
                catalogue.retire(offered[int(gen.integers(0, len(offered)))], env.now)
                tally.retirements += 1
            continue
        if account.status == "merged":
            continue
        if pick >= bounds[1]:
            others = [a for a in book if a.status == "active" and a.id != account.id]
            if others:
                crm.merge(others[int(gen.integers(0, len(others)))].id, account.id, env.now)
                tally.merges += 1
            continue
        field = FIELDS[int(gen.integers(0, len(FIELDS)))]
        owner = owners.get(field, "crm")
        if holders[owner].profile_record(account.id) is None:
            owner = "crm"  # where every customer starts, until the owner has it too
        if pick < rates[0]:
            system, stray = owner, False
        else:
            strays = [s for s in holders if s != owner]
            system, stray = strays[int(gen.integers(0, len(strays)))], True
        value = _value(field, account, n)
        if holders[system].edit(account.id, field, value, env.now):
            if stray:
                tally.stray_edits += 1
            else:
                tally.owner_edits += 1
                tally.intended[(account.id, field)] = value


def _reprice(
    at_owner: bool,
    owners: Mapping[str, str],
    holders: Mapping[str, ProfileHolder],
    gen: Any,
    tally: Tally,
    now: float,
) -> None:
    """One price changed, by -10% to +20%: at the owner of prices, or (stray) elsewhere."""
    owner = owners.get("price", "billing")
    if at_owner:
        system = owner
    else:
        strays = [s for s in holders if s != owner]
        system = strays[int(gen.integers(0, len(strays)))]
    prices = holders[system].prices
    entries = sorted(prices)
    sku, currency = entries[int(gen.integers(0, len(entries)))]
    price = round(prices[(sku, currency)] * (0.9 + 0.3 * float(gen.random())), 2)
    holders[system].reprice(sku, currency, price, now)
    if at_owner:
        tally.price_changes += 1
        tally.intended[(f"{sku}:{currency}", "price")] = price
    else:
        tally.stray_price_changes += 1


def _value(field: str, account: Account, n: int) -> str:
    if field == "name":
        return f"{account.name.split(' #')[0]} #{n}"
    if field == "email":
        user, _, domain = account.email.partition("@")
        return f"{user.split('+')[0]}+{n}@{domain}"
    return f"{n} Harbour Road, Portsmouth"
