"""The live runtime: the same workflows, interpreted with asyncio and httpx.

Where the simulator answers a ``Call`` from a vendor model in simulated time, the
live runtime puts it on the wire: the operation becomes the request its vendor's
OpenAPI document describes (``contracts.binding``: path, query, JSON body), with
the idempotency key and the correlation id as headers, sent to the vendor's base
URL. The answer is classified exactly as the simulator classifies a model's
(``orchestrator.errors.classify``), so a workflow cannot tell the runtimes apart:
that is the conformance suite's claim (``tests/live/test_conformance.py``).

Effect semantics, as ``orchestrator/effects.py`` writes them down for every runtime:

- ``Call``: a 2xx answer's JSON body; otherwise ``classify(status, body,
  Retry-After)``; no answer within ``timeout`` raises ``TimeoutUnknown``, a
  connection refused or reset ``Unavailable(status 0)``.
- ``Publish``: handed to the in-process broker (``live.broker``), which delivers
  it to every consumer group of its topic.
- ``Sleep`` and ``Now``: the runtime's clock, sped up by ``time_scale`` (the same
  factor as the mocks', so a 30 s timeout against mocks at 100x lasts 0.3 s).

Retries, breakers and keys stay in the orchestrator, as in the simulator.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from contracts.binding import CORRELATION_ID, IDEMPOTENCY_KEY, Routes
from orchestrator.effects import Call, Now, Publish, Sleep, Workflow
from orchestrator.errors import CallError, TimeoutUnknown, Unavailable, classify

__all__ = ["WORKFLOW_ID", "LiveRuntime"]

WORKFLOW_ID = "X-Workflow-Id"
"""The header naming the workflow a request is made for."""

Publisher = Callable[[Publish, float], None]
"""Where ``Publish`` effects go: ``(effect, now)``."""


class LiveRuntime:
    """Interprets effects over real HTTP.

    Args:
        base_urls: System -> its base URL (e.g. the mocks' ``base_urls``).
        routes: System -> its document's routes.
        time_scale: Runtime seconds per real second (the mocks' time scale).
        max_in_flight: System -> the most calls in flight at once (the bulkhead).
        http: The client to send with (one per runtime: its connection pools).

    Attributes:
        publish: Where published events go (a ``live.broker.Broker``'s ``publish``).
        on_crash: Told ``(error, workflow id)`` of a workflow that let a
            ``CallError`` escape (the broker stayed down); None: it propagates.
        calls: Requests sent per system.
    """

    def __init__(
        self,
        base_urls: Mapping[str, str],
        routes: Mapping[str, Routes],
        time_scale: float = 1.0,
        max_in_flight: Mapping[str, int] | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_urls = {system: url.rstrip("/") for system, url in base_urls.items()}
        self.routes = dict(routes)
        self.time_scale = time_scale
        self.http = http or httpx.AsyncClient(limits=httpx.Limits(max_connections=200))
        self.slots = {
            system: asyncio.Semaphore(cap) for system, cap in (max_in_flight or {}).items()
        }
        self.publish: Publisher = _nowhere
        self.on_crash: Callable[[CallError, str | None], None] | None = None
        self.calls: dict[str, int] = dict.fromkeys(self.base_urls, 0)
        self.tasks: set[asyncio.Task[Any]] = set()
        self._start = time.monotonic()

    def now(self) -> float:
        """Runtime seconds since the runtime started (or since the clock it was
        aligned with started)."""
        return (time.monotonic() - self._start) * self.time_scale

    def align(self, now: float) -> None:
        """Set the clock so that it reads ``now`` at this instant: the mocks' clock,
        say, so that a time a vendor stamps (the order store's ``committedAt``) and
        the runtime's own are read on one clock, as in the simulator."""
        self._start = time.monotonic() - now / self.time_scale

    def start(self, workflow: Workflow, workflow_id: str | None = None) -> asyncio.Task[Any]:
        """Run ``workflow`` as a task; an escaping ``CallError`` goes to ``on_crash``."""
        task = asyncio.get_running_loop().create_task(self.run(workflow, workflow_id, guard=True))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def idle(self) -> None:
        """Wait until every started workflow has ended (those they start included).

        Raises:
            Exception: The first error a workflow raised that is no ``CallError``
                (a bug: it must not pass unseen).
        """
        while self.tasks:
            ended = await asyncio.gather(*list(self.tasks), return_exceptions=True)
            for result in ended:
                if isinstance(result, Exception) and not isinstance(result, CallError):
                    raise result

    async def run(
        self, workflow: Workflow, workflow_id: str | None = None, guard: bool = False
    ) -> Any:
        """Drive ``workflow`` to its end and return its value.

        Raises:
            CallError: The workflow let one escape (and ``guard`` is off or no
                ``on_crash`` is set).
        """
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                effect = workflow.send(value) if error is None else workflow.throw(error)
            except StopIteration as stop:
                return stop.value
            except CallError as escaped:
                if not guard or self.on_crash is None:
                    raise
                self.on_crash(escaped, workflow_id)
                return None
            value, error = None, None
            try:
                if isinstance(effect, Call):
                    value = await self.call(effect)
                elif isinstance(effect, Sleep):
                    await asyncio.sleep(max(effect.seconds, 0.0) / self.time_scale)
                elif isinstance(effect, Now):
                    value = self.now()
                elif isinstance(effect, Publish):
                    self.publish(effect, self.now())
                else:
                    error = TypeError(f"a workflow yielded {effect!r}, which is not an effect")
            except CallError as failed:
                error = failed

    async def call(self, effect: Call) -> Any:
        """One request, as the operation's document describes it; its body or its error.

        Raises:
            CallError: As ``classify`` says for a non-2xx answer; ``TimeoutUnknown``
                when no answer came in time; ``Unavailable`` when no connection.
        """
        route = self.routes[effect.system][effect.operation]
        request = route.request(effect.params)
        headers = {}
        if effect.key is not None:
            headers[IDEMPOTENCY_KEY] = effect.key
        if effect.correlation is not None:
            headers[CORRELATION_ID] = effect.correlation
        if effect.workflow is not None:
            headers[WORKFLOW_ID] = effect.workflow
        self.calls[effect.system] = self.calls.get(effect.system, 0) + 1
        slot = self.slots.get(effect.system)
        if slot is not None:
            await slot.acquire()
        try:
            answer = await self.http.request(
                request.method,
                self.base_urls[effect.system] + request.path,
                params=request.query or None,
                json=request.body,
                headers=headers,
                timeout=effect.timeout / self.time_scale,
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # nothing was sent: no doubt about the outcome
            raise Unavailable(effect.system, effect.operation, 0, "CONNECTION_FAILED") from exc
        except httpx.TimeoutException as exc:
            raise TimeoutUnknown(effect.system, effect.operation, 0, "TIMEOUT") from exc
        except httpx.TransportError as exc:
            raise Unavailable(effect.system, effect.operation, 0, "CONNECTION_FAILED") from exc
        finally:
            if slot is not None:
                slot.release()
        body = _json(answer)
        if answer.status_code < 300:
            return body
        retry_after = answer.headers.get("retry-after")
        raise classify(
            effect.system,
            effect.operation,
            answer.status_code,
            body if isinstance(body, Mapping) else None,
            _seconds(retry_after, time.time()),
        )

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()


def _json(answer: httpx.Response) -> Any:
    if not answer.content:
        return {}
    try:
        return answer.json()
    except ValueError:
        return {"code": "NOT_JSON", "message": answer.text[:200]}


def _seconds(retry_after: str | None, wall: float) -> float | None:
    """A ``Retry-After`` header in seconds: a number, or an HTTP date (RFC 9110)."""
    if not retry_after:
        return None
    try:
        return max(float(retry_after), 0.0)
    except ValueError:
        try:
            return max(parsedate_to_datetime(retry_after).timestamp() - wall, 0.0)
        except (TypeError, ValueError):
            return None  # unreadable: the orchestrator's own backoff decides


def _nowhere(effect: Publish, now: float) -> None:
    """Where events go before a broker is attached: nowhere."""
