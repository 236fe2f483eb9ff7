"""The vendor mocks over real HTTP on 127.0.0.1, and inside httpx through respx.

Every test serves the simulator's own vendor models on free ports (or answers
from them through respx) and checks what a client sees: documented answers,
the vendor's documented 400 for a malformed request, idempotency keys replayed,
and the scenario's weather (outages, rate limits, lost answers, concurrency
limits) on the mock clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from respx.models import AllMockedAssertionError

from contracts.conformance import Conformance
from mocks.clock import ManualClock, WallClock
from mocks.respx import vendor_router
from mocks.serve import serving
from mocks.shop import open_vendors
from mocks.vendor import document_path
from tests.support import customer_params, quiet_scenario

FAST = {"latency": "1ms"}


def scenario(**systems: dict[str, Any]) -> Any:
    knobs = {name: FAST for name in ("crm", "erp", "billing", "provisioning", "support")}
    return quiet_scenario(systems={**knobs, **systems})


@pytest.fixture
def served() -> Iterator[dict[str, str]]:
    clock = WallClock(1.0)
    with serving(open_vendors(scenario(), clock), clock) as urls:
        yield urls


def customer(external: str = "ACC-000001") -> dict[str, Any]:
    return customer_params(external)


def test_each_vendor_answers_at_its_documents_base_url(served: dict[str, str]) -> None:
    assert all(url.startswith("http://127.0.0.1:") for url in served.values())
    account = httpx.get(f"{served['crm']}/sobjects/Account/ACC-000001", timeout=5)
    assert account.status_code == 200 and account.json()["id"] == "ACC-000001"
    crm = Conformance.load(document_path("crm"))
    assert crm.response_problems("getAccount", 200, account.json()) == []
    health = httpx.get(served["erp"].split("/services")[0] + "/_mock/health", timeout=5)
    assert health.json()["vendor"] == "erp"


def test_a_malformed_request_gets_the_documented_400_naming_the_field(
    served: dict[str, str],
) -> None:
    erp = Conformance.load(document_path("erp"))
    bad = httpx.put(
        f"{served['erp']}/customers/by-external-id/ACC-000001",
        json={**customer(), "currency": 12},
        timeout=5,
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "INVALID_REQUEST" and "currency" in bad.json()["message"]
    assert erp.response_problems("upsertCustomer", 400, bad.json()) == []
    broken = httpx.post(
        f"{served['billing']}/v1/subscriptions",
        content=b"{not json",
        headers={"content-type": "application/json"},
        timeout=5,
    )
    assert broken.status_code == 400 and broken.json()["code"] == "INVALID_JSON"
    wrong_method = httpx.delete(f"{served['crm']}/sobjects/Account/ACC-000001", timeout=5)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET, PATCH"
    nowhere = httpx.get(f"{served['crm']}/sobjects/Nothing", timeout=5)
    assert nowhere.status_code == 404


def test_an_idempotency_key_replays_the_stored_answer(served: dict[str, str]) -> None:
    url = f"{served['erp']}/customers/by-external-id/ACC-000001"
    key = {"Idempotency-Key": "q2c:D-1:customer", "X-Correlation-Id": "D-1"}
    first = httpx.put(url, json=customer(), headers=key, timeout=5)
    again = httpx.put(url, json=customer(), headers=key, timeout=5)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.headers["x-correlation-id"] == "D-1"
    reused = httpx.put(url, json={**customer(), "companyName": "Other"}, headers=key, timeout=5)
    assert reused.status_code == 409 and reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_an_outage_window_answers_503_then_heals() -> None:
    clock = ManualClock()
    crm = {"latency": "1ms", "outages": [{"start": "1h", "duration": "30m"}]}
    with vendor_router(scenario(crm=crm), "crm", clock=clock) as router:
        url = f"{router.base_urls['crm']}/sobjects/Account/ACC-000001"
        assert httpx.get(url).status_code == 200
        clock.advance(3600 + 60)
        down = httpx.get(url)
        assert down.status_code == 503 and down.json()["code"] == "SERVICE_UNAVAILABLE"
        clock.advance(1800)
        assert httpx.get(url).status_code == 200


def test_a_rate_limit_answers_429_with_retry_after() -> None:
    clock = ManualClock()
    crm = {"latency": "1ms", "rate_limit": {"per_second": 2, "burst": 2}}
    with vendor_router(scenario(crm=crm), "crm", clock=clock) as router:
        url = f"{router.base_urls['crm']}/sobjects/Account/ACC-000001"
        answers = [httpx.get(url) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert float(answers[2].headers["retry-after"]) == pytest.approx(0.5, abs=0.01)
        clock.advance(1.0)
        assert httpx.get(url).status_code == 200


def test_a_lost_answer_times_out_but_the_write_happened() -> None:
    clock = ManualClock()
    erp = {"latency": "1ms", "timeout_rate": 1.0}
    with vendor_router(scenario(erp=erp), "erp", clock=clock) as router:
        url = f"{router.base_urls['erp']}/customers/by-external-id/ACC-000001"
        with pytest.raises(httpx.ReadTimeout):
            httpx.put(url, json=customer(), headers={"Idempotency-Key": "k-1"})
        assert router.mocks["erp"].vendor.by_external_id["ACC-000001"].company_name == "Acme"


def test_a_lost_answer_over_real_http_holds_until_the_caller_gives_up() -> None:
    clock = WallClock(1.0)
    mocks = open_vendors(scenario(erp={"latency": "1ms", "timeout_rate": 1.0}), clock)
    with serving(mocks, clock) as urls:
        url = f"{urls['erp']}/customers/by-external-id/ACC-000002"
        with pytest.raises(httpx.ReadTimeout):
            httpx.put(url, json=customer("ACC-000002"), timeout=0.5)
    assert "ACC-000002" in mocks["erp"].vendor.by_external_id


def test_netsuites_concurrency_limit_is_a_400_sss_request_limit_exceeded() -> None:
    clock = WallClock(1.0)
    erp = {"latency": {"fixed": "300ms"}, "concurrency": 1}
    mocks = open_vendors(scenario(erp=erp), clock)
    with serving(mocks, clock) as urls:
        url = f"{urls['erp']}/customers/CUS-000404"

        async def two_at_once() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=5) as client:
                return list(await asyncio.gather(client.get(url), client.get(url)))

        answers = asyncio.run(two_at_once())
    codes = sorted((a.status_code, a.json()["code"]) for a in answers)
    assert codes == [(400, "SSS_REQUEST_LIMIT_EXCEEDED"), (404, "NOT_FOUND")]


def test_a_users_unit_test_can_use_every_vendor_through_respx() -> None:
    with vendor_router(scenario()) as router:
        every = {"crm", "erp", "billing", "provisioning", "support", "oms"}
        assert set(router.base_urls) == every  # the order store too: the scenario has one
        order = httpx.post(
            f"{router.base_urls['erp']}/salesOrders",
            json={
                "customerId": "CUS-000404",
                "externalId": "D-1",
                "currency": "USD",
                "lines": [{"sku": "PRO", "quantity": 1, "unitPrice": 10.0}],
            },
            headers={"Idempotency-Key": "q2c:D-1:order"},
        )
        assert order.status_code == 422, order.json()  # no such customer in the ERP
        assert order.json()["code"] == "INVALID_CUSTOMER"
        with pytest.raises(AllMockedAssertionError):
            httpx.get("https://elsewhere.example.com/")


def test_the_readmes_respx_example_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("inside httpx with no server (respx)")[1]
    code = example.split("```python\n")[1].split("```")[0]
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    exec(compile(code, "README.md (respx example)", "exec"), {})


def test_hostile_bodies_and_keys_get_a_short_documented_400() -> None:
    clock = ManualClock()
    with vendor_router(scenario(), "erp", clock=clock) as router:
        url = f"{router.base_urls['erp']}/customers/by-external-id/ACC-000001"
        deep = httpx.put(url, content=b"[" * 100_000 + b"]" * 100_000)
        assert deep.status_code == 400 and deep.json()["code"] == "INVALID_JSON"
        assert "nested too deeply" in deep.json()["message"]
        nan = httpx.put(url, content=b'{"companyName": NaN}')
        assert nan.status_code == 400 and "NaN" in nan.json()["message"]
        empty_key = httpx.put(url, json=customer(), headers={"Idempotency-Key": ""})
        assert empty_key.status_code == 400 and "Idempotency-Key" in empty_key.json()["message"]
        long_key = httpx.put(url, json=customer(), headers={"Idempotency-Key": "k" * 300})
        assert long_key.status_code == 400
        huge = httpx.put(url, json={**customer(), "currency": "X" * 1_000_000})
        assert huge.status_code == 400 and len(huge.content) < 2_000


def test_two_vendors_on_one_host_each_answer_at_their_own_base_url() -> None:
    urls = {
        "crm": "http://127.0.0.1:8401/services/data/v60.0",
        "erp": "http://127.0.0.1:8402/services/rest/record/v1",
    }
    with vendor_router(scenario(), "crm", "erp", base_urls=urls) as router:
        account = httpx.get(f"{router.base_urls['crm']}/sobjects/Account/ACC-000001")
        assert account.status_code == 200 and account.json()["id"] == "ACC-000001"
        customer = httpx.get(f"{router.base_urls['erp']}/customers/CUS-000404")
        assert customer.status_code == 404 and customer.json()["code"] == "NOT_FOUND"
