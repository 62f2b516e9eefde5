"""Progress of long runs: one line on stderr, rewritten in place, only when stderr is a terminal.

The code doing the work calls `report(what, done, total)` wherever it knows how far it is;
nothing is shown unless the command line asked for it with `on_terminal()`, and that shows
nothing in pipes, files and CI logs, so their output stays as it was.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, TextIO

_reporter: ContextVar[Callable[[str, int, int, str], None] | None] = ContextVar("progress", default=None)
INTERVAL = 0.1  # seconds between redraws: the terminal is not the bottleneck


def report(stage: str, done: int, total: int, detail: str = "") -> None:
    """`done` of `total` in `stage` (detail: what is being done now); done == total ends the stage."""
    reporter = _reporter.get()
    if reporter is not None:
        reporter(stage, done, total, detail)


@contextmanager
def on_terminal(stream: TextIO | None = None):
    """Show progress on `stream` (stderr) while the block runs, if it is a terminal; clear the line after.

    Stages nest (the cases scored for each department checked): the line shows every stage
    under way; a finished stage leaves it, so messages printed next start on a clean line."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield
        return
    stages: dict[str, str] = {}
    last = [0.0]

    def show(stage: str, done: int, total: int, detail: str) -> None:
        started_or_ended = (stage not in stages) or done >= total
        if done >= total:
            stages.pop(stage, None)
        else:
            stages[stage] = f"{stage} {done}/{total} {100 * done // total}%" + (f" {detail}" if detail else "")
        now = time.monotonic()
        if not started_or_ended and now - last[0] < INTERVAL:
            return
        last[0] = now
        stream.write("\r\x1b[K" + " · ".join(stages.values()))
        stream.flush()

    token = _reporter.set(show)
    try:
        yield
    finally:
        _reporter.reset(token)
        stream.write("\r\x1b[K")
        stream.flush()
