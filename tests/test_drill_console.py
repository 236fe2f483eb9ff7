"""The interactive drill in a real pseudo-terminal, as a trainee over SSH plays it:
prompts, a dashboard that raises the alert, actions typed and taken, and a recording
that replays as a scripted run to the same result."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-c", "from sim.cli import main; main()", "drill", "run"]
DRILL = "drills/billing_schema_drift.yaml"


class Terminal:
    """A child process on a pseudo-terminal: type lines, wait for what it prints."""

    def __init__(self, args: list[str]) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, close_fds=True
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 60.0) -> str:
        """Read until ``text`` has been printed; everything read since the last call."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while text not in self.seen[start:]:
            left = deadline - time.monotonic()
            assert left > 0, f"waited for {text!r}; the terminal shows:\n{self.seen[-3000:]}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    assert text in self.seen[start:], f"ended before {text!r}:\n{self.seen[-3000:]}"
                self.seen += chunk.decode("utf-8", "replace")
        return self.seen[start:]

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> int:
        code = self.process.wait(timeout=120)
        os.close(self.master)
        return code


def test_a_trainee_plays_a_drill_at_the_prompt_and_the_recording_replays(tmp_path: Path) -> None:
    record, played, replayed = tmp_path / "mine.yaml", tmp_path / "a.json", tmp_path / "b.json"
    flags = ["--interactive", "--step", "10m", "--record", str(record), "--json", str(played)]
    term = Terminal([*COMMAND, DRILL, *flags])
    try:
        term.expect("drill 0:00:00> ")
        term.type("run 1h10m")
        board = term.expect("drill 1:10:00> ")
        assert "BAD dead_letters <= 0" in board and "<- ALERT" in board
        term.type("standby system=billing")  # not allowed here: refused, the drill goes on
        assert "refused: this drill does not allow it" in term.expect("drill 1:10:00> ")
        term.type("map_fields system=billing rename.amountPaid=amount")
        assert "billing receiver reads amountPaid as amount" in term.expect("drill 1:10:00> ")
        term.type("")  # Enter: one step on
        term.expect("drill 1:20:00> ")
        term.type("replay_dead_letters topic=billing.webhook")
        assert "replayed" in term.expect("drill 1:20:00> ")
        term.type("end")
        debrief = term.expect("score:", timeout=120)
    finally:
        code = term.close()
    assert code == 0, term.seen[-2000:]
    assert "recorded 2 action(s)" in term.seen and "action       map_fields billing" in debrief
    done = subprocess.run(
        [*COMMAND, DRILL, "--actions", str(record), "--json", str(replayed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first, second = json.loads(played.read_text()), json.loads(replayed.read_text())
    assert first["mode"] == "interactive" and second["mode"].startswith("actions from")
    first.pop("mode"), second.pop("mode")
    # the refused attempt is in the trainee's timeline only: it changed nothing
    refused = [m for m in first["timeline"] if m[1] == "refused"]
    assert len(refused) == 1
    first["timeline"].remove(refused[0])
    assert first == second  # the same timeline, series and score, to the byte
    assert first["hurt"]["run"]["dead_letters"] == 0


def test_bad_flags_are_one_clear_message_and_exit_2() -> None:
    for extra, said in (
        (["--interactive", "--no-actions"], "exclude each other"),
        (["--interactive", "--step", "soon"], "--step"),
        (["--actions", "nowhere.yaml"], "nowhere.yaml: no such file"),
    ):
        done = subprocess.run(
            [*COMMAND, DRILL, *extra], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2 and said in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
