"""One HTML page for a run, a compare or a drill: self-contained, offline, no script.

The page is a printed briefing pack, not an app: inline CSS, and every chart drawn
as inline SVG by this module (no CDN, no server, no JavaScript, so it opens from a
mail attachment and prints). A run or compare shows the summary table, latency
quantiles per pattern, the per-minute series (in flight and overdue, dead letters
and backlog, orders live, each system's calls and errors), per-system health and
the dead-letter reasons; a drill adds its timeline with the fault windows shaded
and the actions marked on every chart, the hypothesis verdicts, the harm against
nobody acting and the answer key, the score and the deals' stories.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sim.debrief import clock as _clock
from sim.replications import METRICS, value
from sim.report import duration_text, interval_text

__all__ = ["build"]

PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989")
WIDTH, HEIGHT, PAD = 880, 200, 44
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 940px;
  color: #1f2328; }
h1 { font-size: 1.5em; }
h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { padding: 2px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr:nth-child(even) { background: #f6f8fa; }
svg { display: block; margin: .5em 0 1.2em; }
.muted { color: #656d76; } pre { white-space: pre-wrap; }
.broken { color: #d1242f; } .held { color: #1a7f37; }
table.log td { text-align: left; }
"""


def build(document: dict[str, Any]) -> str:
    """The page for a ``run``/``compare``/``drill run`` JSON document.

    Raises:
        ValueError: The document is none of those.
    """
    if "timeline" in document and "hypothesis" in document:
        title, body = f"Drill: {document['title']}", _drill(document)
    elif "results" in document:
        results = document["results"]
        title, body = f"Compare: {results[0]['scenario']}", _runs(results)
        if "replications" in document:
            body = _replications(document["replications"], [r["pattern"] for r in results]) + body
    elif "sweep" in document and "summary" in document:
        title, body = f"Sweep: {document['sweep']['scenario']}", _sweep(document)
    elif "metrics" in document and "pattern" in document:
        title, body = f"Run: {document['scenario']} / {document['pattern']}", _runs([document])
    else:
        raise ValueError(
            "not a run, compare, sweep or drill document (expected the JSON that "
            "`run --json`, `compare --json`, `sweep --json` or `drill run --json` writes)"
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


# -- sweeps ---------------------------------------------------------------------------


def _sweep(document: dict[str, Any]) -> str:
    """Each headline metric against the first varied field, a line per pattern with its
    95% band; one chart per value of the other varied fields."""
    from sim.sweep import LABELS, SHOWN

    info = document["sweep"]
    flags = list(info["vary"])
    across, others = flags[0], flags[1:]
    xs = info["vary"][across]
    head = (
        f'<p class="muted">{info["finished"]} of {info["runs"]} runs; '
        f"{len(info['seeds'])} seed(s) per point and pattern; varied: "
        + ", ".join(f"{escape(f)} = {escape(', '.join(v))}" for f, v in info["vary"].items())
        + "</p>"
    )
    panels: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
    for entry in document["summary"]:
        rest = tuple(entry["point"][flag] for flag in others)
        by_x = panels.setdefault(rest, {}).setdefault(entry["pattern"], {})
        by_x[entry["point"][across]] = entry["figures"]
    parts = [head]
    for path in SHOWN:
        parts.append(f"<h2>{escape(LABELS[path])}</h2>")
        for rest, by_pattern in panels.items():
            where = ", ".join(f"{f} = {v}" for f, v in zip(others, rest, strict=True))
            lines = {
                pattern: [by_x.get(x, {}).get(path) for x in xs]
                for pattern, by_x in by_pattern.items()
            }
            title = f"{LABELS[path]} against {across}" + (f" ({where})" if where else "")
            parts.append(_band_chart(xs, lines, title))
    failed = document.get("failed") or []
    if failed:
        parts.append("<h2>Runs that failed</h2>")
        rows = [
            [
                ", ".join(f"{k}={v}" for k, v in f["point"].items()),
                f["pattern"],
                f["seed"],
                f["error"],
            ]
            for f in failed
        ]
        parts.append(_table(["point", "pattern", "seed", "why"], rows, kind="log"))
    return "".join(parts)


def _band_chart(xs: list[str], lines: dict[str, list[dict[str, Any] | None]], title: str) -> str:
    """Lines of means over categorical ``xs``, each with its shaded 95% interval."""
    figures = [f for values in lines.values() for f in values if f is not None]
    if not figures:
        return f'<p class="muted">{escape(title)}: no figures</p>'
    low = float(min(min(f["ci95"][0], f["mean"]) for f in figures))
    high = float(max(max(f["ci95"][1], f["mean"]) for f in figures))
    if high - low < 1e-9:
        low, high = low - 1.0, high + 1.0
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(n: int) -> float:
        return PAD + (plot_w * n / (len(xs) - 1) if len(xs) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return HEIGHT - PAD - plot_h * (value - low) / (high - low)

    parts = [f'<svg width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">']
    parts.append(f"<title>{escape(title)}</title>")
    parts.append(
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#8c959f"/>'
        f'<text x="{PAD}" y="{PAD - 8}" font-size="12">{escape(title)} '
        f"({low:.4g} to {high:.4g})</text>"
    )
    for n, label in enumerate(xs):
        parts.append(
            f'<text x="{x(n):.1f}" y="{HEIGHT - PAD + 16}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for k, (pattern, values) in enumerate(lines.items()):
        colour = PALETTE[k % len(PALETTE)]
        known = [(n, f) for n, f in enumerate(values) if f is not None]
        upper = " ".join(f"{x(n):.1f},{y(f['ci95'][1]):.1f}" for n, f in known)
        lower = " ".join(f"{x(n):.1f},{y(f['ci95'][0]):.1f}" for n, f in reversed(known))
        parts.append(
            f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.15" stroke="none"/>'
        )
        means = " ".join(f"{x(n):.1f},{y(f['mean']):.1f}" for n, f in known)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{means}"/>')
        for n, f in known:
            parts.append(
                f'<circle cx="{x(n):.1f}" cy="{y(f["mean"]):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(pattern)} at {escape(xs[n])}: {f['mean']:.4g} "
                f"[{f['ci95'][0]:.4g}, {f['ci95'][1]:.4g}]</title></circle>"
            )
        parts.append(
            f'<text x="{PAD + 10 + 130 * k}" y="{HEIGHT - 6}" font-size="12" fill="{colour}">'
            f"{escape(pattern)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# -- runs and compares ---------------------------------------------------------------

SUMMARY = (("deals closed", "deals"), *METRICS)
"""The headline figures: the ones replications summarise, and the deals closed."""


def _runs(results: list[dict[str, Any]]) -> str:
    names = [r["pattern"] for r in results]
    head = f'<p class="muted">seed {results[0]["seed"]}; {len(results)} pattern(s)</p>'
    rows = [
        [label, *(_cell(value(r["metrics"], path)) for r in results)] for label, path in SUMMARY
    ]
    parts = [head, "<h2>Summary</h2>", _table(["metric", *names], rows)]
    parts.append("<h2>Latency quantiles</h2>")
    for key, label in (("cycle_time_s", "cycle time"), ("commitment_latency_s", "commitment")):
        bars = {r["pattern"]: r["metrics"].get(key) or {} for r in results}
        parts.append(_bars(bars, f"{label} (seconds): p50, p95, p99 per pattern"))
    for result in results:
        series = result.get("series")
        if series:
            parts.append(f"<h2>Over time: {escape(result['pattern'])}</h2>")
            parts.append(_series_charts(series, [], []))
    parts.append("<h2>Per-system health</h2>")
    for result in results:
        systems = result["metrics"].get("systems", {})
        columns = ["calls", "errors", "rejected", "rate_limited", "timeouts", "breaker_opens"]
        rows = [[name, *(_cell(s.get(c)) for c in columns)] for name, s in systems.items()]
        parts.append(f"<p>{escape(result['pattern'])}</p>" + _table(["system", *columns], rows))
    parts.append("<h2>Dead-letter reasons</h2>")
    for result in results:
        reasons = result["metrics"].get("dead_letter_reasons") or {}
        rows = [[reason, str(n)] for reason, n in reasons.items()] or [["none", "0"]]
        parts.append(f"<p>{escape(result['pattern'])}</p>" + _table(["reason", "count"], rows))
    return "".join(parts)


def _replications(found: dict[str, Any], names: list[str]) -> str:
    """Each metric's mean and 95% interval over the seeds, and which differences
    between patterns are larger than the seed-to-seed noise."""
    seeds = len(found["seeds"])
    rows = []
    for label, path in METRICS:
        cells = []
        for name in names:
            figure = found["summary"].get(name, {}).get(path)
            cells.append(interval_text(figure))
        rows.append([label, *cells])
    parts = [
        f"<h2>Across {seeds} seeds</h2>",
        '<p class="muted">mean [95% confidence interval], Student\'s t</p>',
        _table(["metric", *names], rows),
        "<h2>Differences larger than the seed-to-seed noise</h2>",
        '<p class="muted">per seed, paired t-test at 5%; the rest are within the noise</p>',
    ]
    rows = [
        [
            d["metric"],
            f"{d['b']} - {d['a']}",
            f"{d['difference']:.4g}",
            f"[{d['ci95'][0]:.4g}, {d['ci95'][1]:.4g}]",
            f"{d['p_value']:.3g}",
            "larger than the noise" if d["significant"] else "within the noise",
        ]
        for d in found["differences"]
    ]
    parts.append(_table(["metric", "patterns", "difference", "95% interval", "p", ""], rows))
    return "".join(parts)


# -- drills ----------------------------------------------------------------------------


def _drill(report: dict[str, Any]) -> str:
    windows, marks = _windows(report["timeline"]), _marks(report["timeline"])
    detect, recover = report["time_to_detect_s"], report["time_to_recover_s"]
    parts = [
        f'<p class="muted">{escape(report.get("file", ""))}, seed {report.get("seed")}, '
        f"{escape(report.get('mode', ''))}</p>",
        f"<p><b>score {report['score'] if report['score'] is not None else '-'}</b> of 100; "
        f"time to detect {duration_text(detect)}, time to recover {duration_text(recover)}</p>",
        "<h2>Timeline</h2>",
        _table(
            ["time", "what", ""],
            [[_clock(t), kind, text] for t, kind, text in report["timeline"]],
            kind="log",
        ),
        "<h2>Steady-state hypothesis</h2>",
    ]
    rows = [[v["check"], v["before"], v["during"], v["after"]] for v in report["hypothesis"]]
    parts.append(_table(["check", "before", "during", "after"], rows, verdicts=True))
    hurt = report["hurt"]
    rows = [
        [name, *(str(hurt[who][name]) for who in ("run", "baseline", "answer_key"))]
        for name in hurt["run"]
    ]
    parts.append("<h2>Harm</h2>" + _table(["", "this run", "nobody acting", "answer key"], rows))
    series = report.get("series")
    if series:
        parts.append("<h2>Over time</h2>")
        parts.append('<p class="muted">shaded: fault windows; dashed: actions</p>')
        parts.append(_series_charts(series, windows, marks))
    if report.get("stories"):
        parts.append("<h2>The deals hurt most</h2>")
        for deal, lines in report["stories"].items():
            parts.append(f"<p><b>{escape(deal)}</b></p><pre>{escape(chr(10).join(lines))}</pre>")
    if report.get("lesson"):
        parts.append(f"<h2>Lesson</h2><p>{escape(report['lesson'])}</p>")
    return "".join(parts)


def _windows(timeline: list[list[Any]]) -> list[tuple[float, float, str]]:
    """Fault windows from the timeline's start and end lines."""
    opened: dict[str, float] = {}
    found = []
    for t, kind, text in timeline:
        if kind != "fault":
            continue
        if text.endswith(": over"):
            label = text.removesuffix(": over")
            if label in opened:
                found.append((opened.pop(label), float(t), label))
        else:
            opened[text] = float(t)
    return found + [(start, float("inf"), label) for label, start in opened.items()]


def _marks(timeline: list[list[Any]]) -> list[tuple[float, str]]:
    return [(float(t), text) for t, kind, text in timeline if kind == "action"]


# -- drawing ---------------------------------------------------------------------------


def _series_charts(
    series: dict[str, Any], windows: list[tuple[float, float, str]], marks: list[tuple[float, str]]
) -> str:
    t = series["t"]
    charts = [
        ({"in flight": series["in_flight"], "overdue": series["overdue"]}, "deals"),
        ({"dead letters": series["dead_letters"], "backlog": series["backlog"]}, "messages"),
        ({"orders live": series["live"], "commitments": series["committed"]}, "per sample"),
    ]
    systems = series.get("systems", {})
    charts.append(({name: cols["calls"] for name, cols in systems.items()}, "calls per sample"))
    charts.append(({name: cols["errors"] for name, cols in systems.items()}, "errors per sample"))
    return "".join(_lines(t, lines, title, windows, marks) for lines, title in charts)


def _lines(
    t: list[float],
    lines: dict[str, list[float]],
    title: str,
    windows: list[tuple[float, float, str]],
    marks: list[tuple[float, str]],
) -> str:
    if not t:
        return ""
    end = max(t[-1], 1.0)
    top = max([max(v) for v in lines.values() if v] + [1.0])
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(at: float) -> float:
        return PAD + plot_w * min(at, end) / end

    def y(value: float) -> float:
        return HEIGHT - PAD - plot_h * value / top

    parts = [f'<svg width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">']
    parts.append(f"<title>{escape(title)}</title>")
    for start, stop, label in windows:
        parts.append(
            f'<rect x="{x(start):.1f}" y="{PAD}" width="{max(x(stop) - x(start), 1):.1f}" '
            f'height="{plot_h}" fill="#d1242f" fill-opacity="0.08">'
            f"<title>{escape(label)}</title></rect>"
        )
    parts.append(
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#8c959f"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#8c959f"/>'
        f'<text x="{PAD}" y="{PAD - 8}" font-size="12">{escape(title)} (max {top:g})</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 16}" font-size="11" text-anchor="end">'
        f"{_clock(end)}</text>"
    )
    for at, label in marks:
        parts.append(
            f'<line x1="{x(at):.1f}" y1="{PAD}" x2="{x(at):.1f}" y2="{HEIGHT - PAD}" '
            f'stroke="#1f2328" stroke-dasharray="4 3"><title>{escape(label)}</title></line>'
        )
    for n, (label, values) in enumerate(lines.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in zip(t, values, strict=False))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        )
        parts.append(
            f'<text x="{PAD + 10 + 130 * n}" y="{HEIGHT - 10}" font-size="12" fill="{colour}">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _bars(groups: dict[str, dict[str, Any]], title: str) -> str:
    quantiles = ("p50", "p95", "p99")
    values = [float(q.get(k) or 0.0) for q in groups.values() for k in quantiles]
    top = max([*values, 1e-9])
    row_h = 18
    height = PAD + row_h * len(groups) * len(quantiles) + 10
    parts = [f'<svg width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img">']
    parts.append(f"<title>{escape(title)}</title>")
    parts.append(f'<text x="0" y="16" font-size="12">{escape(title)}</text>')
    row = 0
    for n, (name, q) in enumerate(groups.items()):
        colour = PALETTE[n % len(PALETTE)]
        for k in quantiles:
            value = float(q.get(k) or 0.0)
            y = PAD - 10 + row * row_h
            width = (WIDTH - 260) * value / top
            parts.append(
                f'<text x="0" y="{y + 12}" font-size="12">{escape(name)} {k}</text>'
                f'<rect x="170" y="{y}" width="{width:.1f}" height="{row_h - 4}" fill="{colour}"/>'
                f'<text x="{176 + width:.1f}" y="{y + 12}" font-size="11">{value:g}</text>'
            )
            row += 1
    parts.append("</svg>")
    return "".join(parts)


def _table(head: list[str], rows: list[list[Any]], verdicts: bool = False, kind: str = "") -> str:
    def cell(value: Any, tag: str) -> str:
        text = escape(str(value))
        if verdicts and tag == "td" and (text == "held" or text.startswith("broken")):
            return f'<{tag} class="{text.split()[0]}">{text}</{tag}>'
        return f"<{tag}>{text}</{tag}>"

    header = "".join(cell(h, "th") for h in head)
    body = "".join("<tr>" + "".join(cell(v, "td") for v in row) + "</tr>" for row in rows)
    opening = f'<table class="{kind}">' if kind else "<table>"
    return f"{opening}<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
