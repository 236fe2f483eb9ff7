"""The ``contracts`` command group: ``diff``, ``gate`` and ``verify``.

Exit codes: 0 nothing breaks; 1 something breaks (at or above ``--fail-on``);
2 bad usage or an invalid document, with one message naming the file and the
JSON pointer or line, and no traceback; 3 the tool itself failed (see
:mod:`contracts.guard`), which is never a verdict.

The machinery (OpenAPI models, JSON Schema validators, the Pact verifier) is
imported inside each command, so ``lifecycle-sandbox --help`` and the simulator's
commands do not pay for it.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from contracts.errors import ContractInputError
from contracts.findings import Finding, Level
from contracts.guard import internal_error, memory_limit, run_guarded

if TYPE_CHECKING:
    from contracts.lifecycle import Lifecycle
    from contracts.report import Report
    from contracts.safeload import Limits

contracts_app = typer.Typer(
    name="contracts",
    help="Check vendor API changes against the interactions the orchestrator relies on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    """Report formats."""

    text = "text"
    json = "json"
    junit = "junit"
    markdown = "markdown"


class FailOn(StrEnum):
    """The lowest level that fails the run."""

    error = "error"
    warning = "warning"


FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format", "-f", help="Report format; text is the terminal summary.", case_sensitive=False
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write the report here (the terminal summary still prints)."
    ),
]
FailOnOpt = Annotated[
    FailOn,
    typer.Option(
        "--fail-on", help="Lowest level that makes the exit code 1.", case_sensitive=False
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="List info findings and tool output too.")
]
PactsOpt = Annotated[
    list[Path],
    typer.Option("--pacts", help="Pact file or directory of pact files (repeatable)."),
]
ProviderOpt = Annotated[str, typer.Option("--provider", help="Provider name used in the pacts.")]

MaxSizeOpt = Annotated[
    float,
    typer.Option("--max-size", min=0.001, help="Largest document read, in MiB."),
]
MaxMemoryOpt = Annotated[
    int,
    typer.Option(
        "--max-memory", min=64, help="Memory the command may use, in MiB; beyond it, exit 3."
    ),
]
TodayOpt = Annotated[
    str | None,
    typer.Option(
        "--today",
        help="The day x-sunset dates are judged against, YYYY-MM-DD (default: today); pin "
        "it in CI for verdicts that do not change overnight.",
    ),
]
DeprecationDaysOpt = Annotated[
    int,
    typer.Option(
        "--deprecation-days",
        min=0,
        help="Notice a deprecation must give: an x-sunset at least this many days ahead "
        "(0: a deprecation needs no x-sunset).",
    ),
]


def _fail(error: ContractInputError) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(error.render())}", highlight=False, markup=True
    )
    return typer.Exit(code=2)


def _emit(report: Report, fmt: Format, output: Path | None, verbose: bool) -> None:
    from contracts import report as rp
    from contracts.terminal import render

    console = Console(soft_wrap=True)
    if fmt == Format.text:
        if output is not None:
            _write(output, _plain_text(report, verbose))
        render(report, console, verbose=verbose)
        return
    renderers: dict[Format, Callable[[Report], str]] = {
        Format.json: rp.to_json,
        Format.junit: rp.to_junit,
        Format.markdown: rp.to_markdown,
    }
    text = renderers[fmt](report)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    _write(output, text)
    render(report, console, verbose=verbose)
    console.print(f"{fmt.value} report written to {output}", highlight=False, markup=False)


def _plain_text(report: Report, verbose: bool) -> str:
    from contracts.terminal import render

    console = Console(record=True, width=200, soft_wrap=True, file=io.StringIO())
    render(report, console, verbose=verbose)
    return console.export_text()


def _write(output: Path, text: str) -> None:
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ContractInputError(
            f"cannot write the report ({exc.strerror or exc})",
            file=output,
            pointer="--output",
            expected="a writable file path",
        ) from None


def _run(
    body: Callable[[], Report],
    fmt: Format,
    output: Path | None,
    verbose: bool,
    max_memory: int | None = None,
) -> None:
    try:
        with memory_limit(max_memory):
            report = body()
        _emit(report, fmt, output, verbose)
    except ContractInputError as error:
        raise _fail(error) from None
    except MemoryError:
        internal_error(
            f"the command needed more than its memory limit ({max_memory} MiB), so no verdict "
            "was reached; raise --max-memory if the documents are genuine",
            show_traceback=False,
            a_bug=False,
        )
    raise typer.Exit(code=report.exit_code)


def _limits(max_size: float) -> Limits:
    from contracts.safeload import Limits

    return Limits(max_bytes=int(max_size * 1024 * 1024))


def _lifecycle(today: str | None, deprecation_days: int) -> Lifecycle:
    from contracts.lifecycle import Lifecycle

    if today is None:
        return Lifecycle(today=dt.date.today(), deprecation_days=deprecation_days)
    try:
        day = dt.date.fromisoformat(today)
    except ValueError:
        raise ContractInputError(
            f"--today {today!r} is not a date",
            pointer="--today",
            expected="a date written YYYY-MM-DD, such as 2026-12-01",
        ) from None
    return Lifecycle(today=day, deprecation_days=deprecation_days)


def _level(fail_on: FailOn) -> Level:
    return Level(fail_on.value)


def diff_report(
    old_path: Path,
    new_path: Path,
    fail_on: Level,
    *,
    limits: Limits | None = None,
    lifecycle: Lifecycle | None = None,
) -> Report:
    """Build the ``diff`` report: one case per operation where changes show.

    Args:
        old_path: The previous document.
        new_path: The candidate document.
        fail_on: The lowest level that fails.
        limits: Hostile-input limits for reading the documents.
        lifecycle: The deprecation policy (default: today, no grace period).

    Returns:
        The report.
    """
    from contracts.diff import diff_documents
    from contracts.loader import load_document
    from contracts.report import Case, Report
    from contracts.safeload import DEFAULT_LIMITS

    old = load_document(old_path, limits or DEFAULT_LIMITS)
    new = load_document(new_path, limits or DEFAULT_LIMITS)
    grouped: dict[str, list[Finding]] = {}
    for finding in diff_documents(old, new, lifecycle):
        loc = finding.location
        name = f"{loc.method.upper()} {loc.path}" if loc.method else str(loc.path)
        grouped.setdefault(name, []).append(finding)
    cases = tuple(
        Case(name=name, group=f"diff.{name.split(' ')[-1]}", findings=tuple(items))
        for name, items in sorted(grouped.items(), key=lambda kv: (kv[0].split(" ")[-1], kv[0]))
    )
    return Report(
        command="diff",
        title=f"diff: {old_path.name} -> {new_path.name}",
        subject={"old": str(old_path), "new": str(new_path)},
        cases=cases,
        fail_on=fail_on,
    )


@contracts_app.command("diff")
def diff_command(
    old: Annotated[Path, typer.Argument(help="The OpenAPI document clients use now.")],
    new: Annotated[Path, typer.Argument(help="The vendor's new OpenAPI document.")],
    fmt: FormatOpt = Format.text,
    output: OutputOpt = None,
    fail_on: FailOnOpt = FailOn.error,
    verbose: VerboseOpt = False,
    today: TodayOpt = None,
    deprecation_days: DeprecationDaysOpt = 0,
    max_size: MaxSizeOpt = 64.0,
    max_memory: MaxMemoryOpt = 4096,
) -> None:
    """List backward-compatibility changes from OLD to NEW, graded error/warning/info."""

    def body() -> Report:
        return diff_report(
            old,
            new,
            _level(fail_on),
            limits=_limits(max_size),
            lifecycle=_lifecycle(today, deprecation_days),
        )

    _run(body, fmt, output, verbose, max_memory)


@contracts_app.command("gate")
def gate_command(
    provider: ProviderOpt,
    spec: Annotated[Path, typer.Option("--spec", help="The provider's new OpenAPI document.")],
    pacts: PactsOpt,
    old: Annotated[
        Path | None,
        typer.Option("--old", help="The current document: unused changes are listed as info."),
    ] = None,
    fmt: FormatOpt = Format.text,
    output: OutputOpt = None,
    fail_on: FailOnOpt = FailOn.error,
    verbose: VerboseOpt = False,
    today: TodayOpt = None,
    deprecation_days: DeprecationDaysOpt = 0,
    max_size: MaxSizeOpt = 64.0,
    max_memory: MaxMemoryOpt = 4096,
) -> None:
    """Check every pact interaction with PROVIDER against the new document."""

    def body() -> Report:
        from contracts.gate import run_gate
        from contracts.loader import load_document
        from contracts.pactfile import load_pacts

        limits = _limits(max_size)
        policy = _lifecycle(today, deprecation_days)
        document = load_document(spec, limits)
        previous = load_document(old, limits) if old is not None else None
        return run_gate(
            document,
            load_pacts(pacts),
            provider,
            old=previous,
            fail_on=_level(fail_on),
            lifecycle=policy,
        )

    _run(body, fmt, output, verbose, max_memory)


@contracts_app.command("verify")
def verify_command(
    provider: ProviderOpt,
    base_url: Annotated[str, typer.Option("--base-url", help="Where the provider listens.")],
    pacts: PactsOpt,
    state_url: Annotated[
        str | None,
        typer.Option(
            "--state-url",
            help="Provider state-change URL, absolute or relative to --base-url "
            "(e.g. /_pact/state).",
        ),
    ] = None,
    fmt: FormatOpt = Format.text,
    output: OutputOpt = None,
    fail_on: FailOnOpt = FailOn.error,
    verbose: VerboseOpt = False,
) -> None:
    """Replay the pact interactions against a running provider (Pact verifier)."""

    def body() -> Report:
        from contracts.verify import run_verify

        return run_verify(provider, base_url, pacts, state_url=state_url, fail_on=_level(fail_on))

    _run(body, fmt, output, verbose)


def main() -> None:
    """Entry point for ``python -m contracts``."""
    run_guarded(contracts_app, "python -m contracts")
