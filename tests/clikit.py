"""Run the command line as a user does, on real files.

`scoring(...)` runs it in this process through click's CliRunner (the same `main`, the same
argument parsing, exit codes and output streams, a fraction of the time). `scoring_process(...)`
runs the installed script as a separate process, for the few tests that need a real one: a
terminal, signals, the script and `cli.py` themselves.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from casekit import ROOT, SAMPLE
from click.testing import CliRunner

from scoring.cli import main

SCRIPT = Path(sys.executable).with_name("scoring")


@dataclass
class Ran:
    """What a run printed and how it ended, as subprocess.CompletedProcess has it."""

    returncode: int
    stdout: str
    stderr: str


def scoring(*args, cwd=ROOT, env=None, stdin: bytes | None = None) -> Ran:
    """The command line in this process (stdin: what standard input gives); an exception that escapes it
    shows as a traceback on stderr."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, [str(a) for a in args], env=env, input=stdin)
    finally:
        os.chdir(previous)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(result.exception))
    return Ran(result.exit_code, result.stdout, stderr)


def scoring_bytes(*args) -> bytes:
    """What the command line writes on standard output, as bytes (a workbook given --out -)."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def scoring_process(*args, cwd=ROOT, env=None) -> subprocess.CompletedProcess:
    """The installed `scoring` script (or cli.py) as a separate process."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, str(ROOT / "cli.py")]
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=300, env=env)


def read_until_closed(fd: int) -> bytes:
    """What is left to read on a pseudo-terminal's leader, until its other end is closed."""
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end closed
            return data
        if not chunk:
            return data
        data += chunk


def shuffled_sample(tmp_path, seed: int):
    """The sample file with its cases, events and handlers in another order."""
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    rng.shuffle(rows)
    for row in rows:
        rng.shuffle(row["events"])
        rng.shuffle(row["handlers"])
    shuffled = tmp_path / f"shuffled-{seed}.jsonl"
    shuffled.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return shuffled
