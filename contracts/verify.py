"""``contracts verify``: replay pact interactions against a running provider.

This wraps pact-python's verifier (the Pact Rust core): it sends each
interaction's request to the provider at ``--base-url``, after asking the
provider's state-change URL (when given) to set up the interaction's provider
states, and compares the response with the pact, matchers included. Its results
become a :class:`contracts.report.Report` like the gate's.
"""

from __future__ import annotations

import io
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from contracts import findings as fd
from contracts.errors import ContractInputError
from contracts.findings import Finding, Level, Location
from contracts.gate import select_provider
from contracts.pactfile import Interaction, load_pacts, pact_files
from contracts.report import Case, Report


def check_base_url(base_url: str, *, timeout: float = 3.0) -> tuple[str, int]:
    """Check the provider URL is well formed and something listens there.

    Args:
        base_url: ``http://host:port[/path]``.
        timeout: Seconds to wait for the TCP connection.

    Returns:
        ``(host, port)``.

    Raises:
        ContractInputError: If the URL is malformed or nothing answers.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContractInputError(
            f"invalid --base-url {base_url!r}",
            pointer="--base-url",
            expected="an http(s) URL such as http://127.0.0.1:8081",
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        raise ContractInputError(
            f"cannot connect to the provider at {base_url} ({exc.strerror or exc})",
            pointer="--base-url",
            expected="a running provider",
            hint="start the provider first, or fix --base-url",
        ) from None
    return parts.hostname, port


@contextmanager
def _captured_stdout() -> Iterator[list[str]]:
    """Capture what the Rust core prints on file descriptor 1."""
    sink: list[str] = []
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield sink
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            sink.append(tmp.read().decode("utf-8", "replace"))


def run_verify(
    provider: str,
    base_url: str,
    pacts: list[Path],
    *,
    state_url: str | None = None,
    fail_on: Level = Level.ERROR,
) -> Report:
    """Verify a running provider against the pacts.

    Args:
        provider: The provider's name in the pacts.
        base_url: Where the provider listens.
        pacts: Pact files or directories.
        state_url: The provider's state-change URL, absolute or relative to
            ``base_url`` (e.g. ``/_pact/state``); ``None`` when it has none.
        fail_on: The lowest level that fails the run.

    Returns:
        The report, one case per interaction.

    Raises:
        ContractInputError: On bad pacts, a bad URL, an unreachable provider, or
            when pact-python is not installed.
    """
    interactions = select_provider(load_pacts(pacts), provider)
    host, _ = check_base_url(base_url)
    Verifier = _verifier_class()
    verifier = Verifier(provider, host=host).add_transport(url=base_url.rstrip("/") or base_url)
    files = _sources(verifier, pacts, interactions)
    if state_url:
        absolute = urljoin(base_url.rstrip("/") + "/", state_url.lstrip("/"))
        if state_url.startswith(("http://", "https://")):
            absolute = state_url
        verifier.state_handler(absolute, body=True)
    results, printed = _run(verifier)
    cases = _cases(provider, interactions, results)
    return Report(
        command="verify",
        title=f"verify: {provider} at {base_url}",
        subject={
            "provider": provider,
            "baseUrl": base_url,
            "stateUrl": state_url or "",
            "pacts": ", ".join(sorted(Path(f).name for f in files)),
        },
        cases=tuple(cases),
        fail_on=fail_on,
        notes=tuple(n for n in _notes(results) if n),
        output=printed,
    )


Produce = Callable[[str], tuple[bytes, dict[str, Any]]]
"""A message provider: the description of a message -> its JSON body and metadata."""
SetUp = Callable[[str, Mapping[str, Any]], None]
"""A provider-state setup: ``(state, params)``."""


def run_verify_messages(
    provider: str,
    pacts: list[Path],
    produce: Produce,
    setup: SetUp,
    *,
    fail_on: Level = Level.ERROR,
) -> Report:
    """Verify a message provider against its message pacts with the real Pact verifier.

    Pact's verifier asks for each message by its description (after setting up its
    provider states) and compares what ``produce`` returns with the pact.

    Args:
        provider: The provider's name in the pacts.
        pacts: Pact files or directories.
        produce: Makes the message a description names.
        setup: Puts the provider into a provider state.
        fail_on: The lowest level that fails the run.

    Returns:
        The report, one case per message.

    Raises:
        ContractInputError: On bad pacts, or when pact-python is not installed.
    """
    interactions = select_provider(load_pacts(pacts), provider)
    Verifier = _verifier_class()

    failed: list[str] = []  # the verifier reports only that a handler failed: keep why

    def message(name: str, metadata: dict[str, Any] | None) -> dict[str, Any]:
        try:
            contents, meta = produce(name)
        except Exception as exc:
            failed.append(f"{name}: the provider made no message: {exc}")
            raise
        return {"contents": contents, "metadata": meta, "content_type": "application/json"}

    def state(state: str, action: str, parameters: dict[str, Any] | None) -> None:
        if action == "setup":
            try:
                setup(state, parameters or {})
            except Exception as exc:
                failed.append(f"{state}: the provider could not set it up: {exc}")
                raise

    verifier = Verifier(provider).message_handler(message).state_handler(state, teardown=True)
    files = _sources(verifier, pacts, interactions)
    with redirect_stderr(io.StringIO()):  # pact-python's message relay logs every request
        results, printed = _run(verifier)
    return Report(
        command="verify",
        title=f"verify: {provider}'s messages",
        subject={"provider": provider, "pacts": ", ".join(sorted(Path(f).name for f in files))},
        cases=tuple(_cases(provider, interactions, results)),
        fail_on=fail_on,
        notes=(*failed, *(n for n in _notes(results) if n)),
        output=printed,
    )


def _verifier_class() -> Any:
    # A CI gate should not phone home: Pact's anonymous usage telemetry is off unless
    # the caller opted in by setting PACT_DO_NOT_TRACK themselves.
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    try:
        from pact import Verifier
    except ImportError:
        raise ContractInputError(
            "pact-python is not installed",
            expected="the pact-python package (Pact verifier)",
            hint="run `pip install -e '.[dev]'` (or `make test` once)",
        ) from None
    return Verifier


def _sources(verifier: Any, pacts: list[Path], interactions: list[Interaction]) -> set[str]:
    """Hand the verifier the pact files the provider's interactions are in."""
    verifier.set_coloured_output(enabled=False)
    files = {i.file for i in interactions}
    for file in pact_files(pacts):
        if str(file) in files:
            verifier.add_source(file)
    return files


def _run(verifier: Any) -> tuple[dict[str, Any], str]:
    """Run the verifier; its results, and what the Rust core printed."""
    with _captured_stdout() as printed, suppress(RuntimeError):  # failures are in the results
        verifier.verify()
    return verifier.results, "".join(printed)


def _cases(provider: str, interactions: list[Interaction], results: dict[str, Any]) -> list[Case]:
    by_key: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for item in results.get("interactionResults") or []:
        key = (str(item.get("description")), tuple(item.get("providerStates") or []))
        by_key[key] = item
    cases = []
    for interaction in interactions:
        location = Location(interaction.path, interaction.method.lower(), str(interaction.status))
        group = f"{provider}.{interaction.method} {interaction.path}"
        if interaction.kind != "http":  # a message: no path, method or status
            location, group = Location(field=f"message {interaction.description}"), provider
        item = by_key.get((interaction.description, interaction.states))
        found: list[Finding] = []
        if item is None:
            found.append(fd.make("verify-error", "the verifier did not replay it", location))
        elif item.get("result") != "OK":
            found.extend(_mismatches(item.get("mismatch") or {}, location))
            if not found:
                found.append(fd.make("verify-error", f"result: {item.get('result')}", location))
        cases.append(
            Case(
                name=interaction.name,
                group=group,
                findings=tuple(found),
            )
        )
    return cases


def _mismatches(mismatch: dict[str, Any], location: Location) -> list[Finding]:
    if mismatch.get("type") == "error":
        return [fd.make("verify-error", str(mismatch.get("message", "error")), location)]
    found = []
    for item in mismatch.get("mismatches") or []:
        kind = str(item.get("type", "Mismatch"))
        text = str(item.get("mismatch", "")).strip() or f"expected {item.get('expected')}"
        path = item.get("path")
        where = Location(
            location.path,
            location.method,
            location.status,
            field=f"body {path}" if kind == "BodyMismatch" and path else location.field,
        )
        found.append(fd.make("verify-failed", f"{kind}: {text}", where))
    return found


def _notes(results: dict[str, Any]) -> list[str]:
    notes = [str(n.get("text", n)) for n in results.get("notices") or [] if isinstance(n, dict)]
    for error in results.get("errors") or []:
        mismatch = error.get("mismatch") or {}
        if mismatch.get("type") == "error":
            notes.append(f"{error.get('interaction')}: {mismatch.get('message')}")
    return notes
