"""The HTML report in a real headless browser: a run, a compare and a drill each open
offline, render with no console errors, and the screenshot shows the plots."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from sim.html_report import PALETTE

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-c", "from sim.cli import main; main()"]
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
NO_BROWSER = (
    "no headless Chromium on this machine: install Debian's `chromium` package "
    "(`sudo apt-get install chromium`; .ci/run does it in CI), then run this test again"
)


SEEDED = ["--orders", "120", "--seeds", "3"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*COMMAND, *args], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("report")
    scenario = "scenarios/b2b_saas_quote_to_cash.yaml"
    made = {
        "run": ["run", scenario, "--orders", "120"],
        "compare": ["compare", scenario, "--patterns", "sync_chain,hybrid", *SEEDED],
        "drill": ["drill", "run", "drills/billing_schema_drift.yaml"],
        "sweep": [
            "sweep",
            "scenarios/provisioning_outage.yaml",
            "--vary",
            "systems.provisioning.outages.0.start=5m,15m,25m",
            "--patterns",
            "sync_chain,hybrid",
            "--seeds",
            "2",
            "--orders",
            "60",
        ],
    }
    found = {}
    for kind, args in made.items():
        results, page = where / f"{kind}.json", where / f"{kind}.html"
        cli(*args, "--json", str(results))
        assert f"wrote {page}" in cli("report", str(results), "--html", str(page)).stdout
        found[kind] = page
    return found


@pytest.mark.parametrize("kind", ["run", "compare", "drill", "sweep"])
def test_the_page_is_self_contained(pages: dict[str, Path], kind: str) -> None:
    html = pages[kind].read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert html.count("<svg") >= 5 and "<polyline" in html
    if kind == "compare":  # with --seeds: what exceeds the seed-to-seed noise
        assert "Across 3 seeds" in html and "Differences larger than the seed-to-seed" in html
    if kind == "sweep":  # a line per pattern with its 95% band, per headline metric
        assert html.count("<polygon") >= 16 and "against systems.provisioning" in html
    if kind == "drill":
        assert "Steady-state hypothesis" in html and "fill-opacity" in html  # fault window
        assert "stroke-dasharray" in html  # the actions marked


def colours(png: bytes) -> set[tuple[int, int, int]]:
    """The distinct RGB colours of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, width, height, channels = 8, b"", 0, 0, 3
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += chunk
        pos += 12 + length
    raw, stride = zlib.decompress(data), width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (
                    line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 255
        rows.append(line)
        previous = line
    return {
        (row[i], row[i + 1], row[i + 2])
        for row in rows[::2]
        for i in range(0, stride, channels * 2)
    }


@pytest.mark.skipif(BROWSER is None, reason=NO_BROWSER)
@pytest.mark.parametrize("kind", ["run", "compare", "drill", "sweep"])
def test_the_page_renders_in_headless_chromium_with_its_plots(
    pages: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    assert BROWSER is not None
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            BROWSER,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1000,2400",
            f"--screenshot={shot}",
            "--enable-logging=stderr",
            "--v=0",
            pages[kind].as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [
        line for line in done.stderr.splitlines() if "CONSOLE" in line or "Failed to load" in line
    ]
    assert console == [], console
    seen = colours(shot.read_bytes())
    plotted = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in PALETTE[:2]}
    assert plotted <= seen, "the screenshot shows no plot lines"
    assert len(seen) > 20  # text, tables, shading: not a blank page
