"""The readable terminal summary of a report (rich).

One line per case (``FAIL``/``WARN``/``PASS`` and its name), the findings that
matter under it, and a closing line with the counts and the exit code. ``info``
findings are counted, and listed only with ``--verbose`` (for ``diff`` they are
always listed: there they are the point).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from contracts.findings import Finding, Level
from contracts.report import Case, Report

_STYLE = {Level.ERROR: "bold red", Level.WARNING: "yellow", Level.INFO: "dim"}


def _badge(case: Case, report: Report) -> Text:
    if case.fails(report.fail_on):
        return Text("FAIL", style="bold red")
    if case.level == Level.WARNING:
        return Text("WARN", style="yellow")
    return Text("PASS", style="green")


def reaches_text(finding: Finding, shown: int = 3) -> str:
    """``reaches 5 operations: GET /a, POST /a, GET /b and 2 more``.

    Args:
        finding: A finding with :attr:`Finding.reaches`.
        shown: How many operations to name.

    Returns:
        The sentence, or ``""`` when the change reaches one operation.
    """
    if not finding.reaches:
        return ""
    names = ", ".join(finding.reaches[:shown])
    more = len(finding.reaches) - shown
    return f"reaches {len(finding.reaches)} operations: {names}" + (
        f" and {more} more" if more > 0 else ""
    )


def render(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Print the summary of a report.

    Args:
        report: The report.
        console: Where to print.
        verbose: Also list ``info`` findings one by one.
    """
    console.print(Text(report.title, style="bold"))
    for key in sorted(report.subject):
        console.print(f"  {key}: {escape(report.subject[key])}", highlight=False)
    console.print()
    show_info = verbose or report.command == "diff"
    for case in report.cases:
        line = Text.assemble(_badge(case, report), " ", case.name)
        if case.group and report.command != "diff":
            line.append(f"  [{case.group}]", style="dim")
        console.print(line, highlight=False)
        hidden = 0
        for finding in case.findings:
            if finding.level == Level.INFO and not show_info:
                hidden += 1
                continue
            text = Text("    ")
            text.append(f"{finding.level.value:<7}", style=_STYLE[finding.level])
            text.append(f" {finding.id}: ", style="bold")
            text.append(finding.message)
            console.print(text, highlight=False)
            console.print(
                Text(f"            at {finding.location.describe()}", style="dim"),
                highlight=False,
            )
            if finding.reaches:
                console.print(Text(f"            {reaches_text(finding)}", style="dim"))
        if hidden:
            console.print(
                Text(f"    {hidden} info finding(s); --verbose lists them", style="dim"),
                highlight=False,
            )
        if case.detail and case.fails(report.fail_on):
            for detail_line in case.detail.splitlines():
                console.print(Text(f"    | {detail_line}", style="dim"), highlight=False)
    if verbose and report.output:
        console.print(Text(report.output, style="dim"), highlight=False)
    for note in report.notes:
        console.print(Text(note, style="dim"), highlight=False)
    counts = report.counts()
    unit = "operation(s)" if report.command == "diff" else "interaction(s)"
    if report.command == "diff" and not report.cases:
        console.print("No changes.")
    summary = Text()
    if report.command == "diff":
        summary.append(f"{len(report.cases)} {unit} changed; ")
    else:
        checked = [c for c in report.cases if not c.group.endswith(".unused")]
        broken = sum(1 for c in checked if c.fails(report.fail_on))
        summary.append(f"{broken} of {len(checked)} {unit} break; ")
    summary.append(
        f"{counts['error']} error, {counts['warning']} warning, {counts['info']} info "
        f"(failing on {report.fail_on.value}); exit {report.exit_code}"
    )
    console.print()
    console.print(summary, style="bold red" if report.exit_code else "bold green", highlight=False)
