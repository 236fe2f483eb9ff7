"""Reports for CI: one model for ``diff``, ``gate`` and ``verify``, and its file formats.

A :class:`Report` is a list of :class:`Case` (one per pact interaction, or per
operation for ``diff``), each with its findings. It renders as JSON, as JUnit
XML (one ``testcase`` per case, failed when the case reaches the ``--fail-on``
level, so CI shows each broken interaction by name) and as Markdown for a pull
request comment. Output is deterministic: cases and findings keep a stable order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from contracts.findings import Finding, Level, worst


@dataclass(frozen=True)
class Case:
    """One checked unit: a pact interaction, or an operation for ``diff``.

    Attributes:
        name: Its name (the interaction description).
        group: Where it belongs (the operation, or the pact file); JUnit classname.
        findings: What was found, in order.
        detail: Extra text (e.g. the verifier's output for this interaction).
    """

    name: str
    group: str
    findings: tuple[Finding, ...] = ()
    detail: str = ""

    @property
    def level(self) -> Level | None:
        """The worst finding's level, or ``None`` when there is none."""
        return worst(self.findings)

    def fails(self, fail_on: Level) -> bool:
        """Whether this case counts as broken.

        Args:
            fail_on: The lowest level that fails.

        Returns:
            True when some finding is at or above ``fail_on``.
        """
        return any(f.level.rank >= fail_on.rank for f in self.findings)


@dataclass(frozen=True)
class Report:
    """The result of one command.

    Attributes:
        command: ``diff``, ``gate`` or ``verify``.
        title: A headline, e.g. ``gate: erp against erp-2026.2.yaml``.
        subject: Inputs worth recording (provider, spec, pact files, ...).
        cases: The cases.
        fail_on: The lowest level that fails the run.
        notes: Remarks about the run as a whole.
        output: Raw output of an underlying tool (the Pact verifier), if any.
    """

    command: str
    title: str
    subject: dict[str, str]
    cases: tuple[Case, ...]
    fail_on: Level = Level.ERROR
    notes: tuple[str, ...] = field(default_factory=tuple)
    output: str = ""

    def counts(self) -> dict[str, int]:
        """Findings per level, and cases failed/passed.

        Returns:
            ``{"error": n, "warning": n, "info": n, "failed": n, "passed": n}``.
        """
        result = {level.value: 0 for level in Level}
        for case in self.cases:
            for finding in case.findings:
                result[finding.level.value] += 1
        failed = sum(1 for c in self.cases if c.fails(self.fail_on))
        result["failed"] = failed
        result["passed"] = len(self.cases) - failed
        return result

    @property
    def exit_code(self) -> int:
        """0 when nothing breaks, 1 when some case fails."""
        return 1 if any(c.fails(self.fail_on) for c in self.cases) else 0


def to_json(report: Report) -> str:
    """Render a report as JSON.

    Args:
        report: The report.

    Returns:
        Pretty-printed JSON with sorted keys.
    """
    data = {
        "command": report.command,
        "title": report.title,
        "subject": report.subject,
        "failOn": report.fail_on.value,
        "exitCode": report.exit_code,
        "counts": report.counts(),
        "notes": list(report.notes),
        "cases": [
            {
                "name": case.name,
                "group": case.group,
                "level": case.level.value if case.level else None,
                "failed": case.fails(report.fail_on),
                "detail": case.detail,
                "findings": [
                    {
                        "id": f.id,
                        "level": f.level.value,
                        "message": f.message,
                        "reaches": list(f.reaches),
                        "location": {
                            "path": f.location.path,
                            "method": f.location.method,
                            "status": f.location.status,
                            "pointer": f.location.pointer,
                            "field": f.location.field,
                            "document": f.location.document,
                        },
                    }
                    for f in case.findings
                ],
            }
            for case in report.cases
        ],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _finding_line(finding: Finding) -> str:
    line = (
        f"[{finding.level.value}] {finding.id}: {finding.message} @ {finding.location.describe()}"
    )
    if finding.reaches:
        line += f" (reaches {len(finding.reaches)} operations: {', '.join(finding.reaches)})"
    return line


def to_junit(report: Report) -> str:
    """Render a report as JUnit XML, one test case per case.

    Args:
        report: The report.

    Returns:
        The XML document.
    """
    failures = sum(1 for c in report.cases if c.fails(report.fail_on))
    suites = ET.Element("testsuites", name=f"contracts {report.command}")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=report.title,
        tests=str(len(report.cases)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    props = ET.SubElement(suite, "properties")
    for key in sorted(report.subject):
        ET.SubElement(props, "property", name=key, value=report.subject[key])
    for case in report.cases:
        element = ET.SubElement(suite, "testcase", name=case.name, classname=case.group)
        text = "\n".join(_finding_line(f) for f in case.findings)
        if case.detail:
            text = f"{text}\n\n{case.detail}" if text else case.detail
        if case.fails(report.fail_on):
            breaking = [f for f in case.findings if f.level.rank >= report.fail_on.rank]
            failure = ET.SubElement(
                element,
                "failure",
                message="; ".join(f"{f.id}: {f.message}" for f in breaking),
                type=breaking[0].id if breaking else "failed",
            )
            failure.text = text
        elif text:
            ET.SubElement(element, "system-out").text = text
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_ICON = {None: "✅", Level.INFO: "✅", Level.WARNING: "⚠️", Level.ERROR: "❌"}


def to_markdown(report: Report) -> str:
    """Render a report as Markdown for a pull-request comment.

    Args:
        report: The report.

    Returns:
        The Markdown text.
    """
    counts = report.counts()
    verdict = "❌ breaks" if report.exit_code else "✅ passes"
    lines = [
        f"### Contract {report.command}: {verdict}",
        "",
        f"**{report.title}**",
        "",
        f"{counts['failed']} failed, {counts['passed']} passed; findings: "
        f"{counts['error']} error, {counts['warning']} warning, {counts['info']} info "
        f"(fails on {report.fail_on.value}).",
        "",
        "| | Case | Findings |",
        "|---|---|---|",
    ]
    for case in report.cases:
        icon = "❌" if case.fails(report.fail_on) else _ICON[case.level]
        summary = "<br>".join(
            _md(f"{f.level.value} `{f.id}`: {f.message}")
            for f in case.findings
            if f.level != Level.INFO
        )
        infos = sum(1 for f in case.findings if f.level == Level.INFO)
        if infos:
            summary = (summary + "<br>" if summary else "") + f"{infos} info"
        lines.append(f"| {icon} | {_md(case.name)} | {summary or 'ok'} |")
    broken = [c for c in report.cases if c.fails(report.fail_on)]
    if broken:
        lines += ["", "<details><summary>Details of what breaks</summary>", ""]
        for case in broken:
            lines.append(f"**{_md(case.name)}** ({_md(case.group)})")
            lines.append("")
            for f in case.findings:
                if f.level.rank >= report.fail_on.rank:
                    where = _md(f.location.describe())
                    if f.reaches:
                        where += f" (reaches {len(f.reaches)} operations)"
                    lines.append(f"- `{f.id}` {_md(f.message)} — {where}")
            lines.append("")
        lines.append("</details>")
    for note in report.notes:
        lines += ["", f"> {note}"]
    return "\n".join(lines) + "\n"
