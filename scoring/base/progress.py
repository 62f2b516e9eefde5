"""Progress of long runs: one line on stderr, rewritten in place, only when stderr is a terminal.

The code doing the work calls `report(stage, done, total)` wherever it knows how far it is;
nothing is shown unless the command line asked for it with `on_terminal()`, and that shows
nothing in pipes, files and CI logs, so their output stays as it was. Before printing a
message to stderr, call `clear()`: the message then starts on a clean line.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

from .i18n import _

INTERVAL = 0.1  # seconds between redraws: the terminal is not the bottleneck


class _Line:
    """The progress line. Stages nest (the cases scored for each department checked): it shows
    every stage under way; a finished stage leaves it."""

    def __init__(self, stream: TextIO):
        self.stream, self.stages, self.last = stream, {}, 0.0  # stage -> (done, total, detail, started)

    def show(self, stage: str, done: int, total: int, detail: str) -> None:
        started_or_ended = stage not in self.stages or done >= total
        now = time.monotonic()
        if done >= total:
            self.stages.pop(stage, None)
        else:
            self.stages[stage] = (done, total, detail, self.stages[stage][3] if stage in self.stages else now)
        if not started_or_ended and now - self.last < INTERVAL:
            return
        self.last = now
        self.draw(" · ".join(_stage_text(stage, *state, now) for stage, state in self.stages.items()))

    def draw(self, text: str) -> None:
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()


def _stage_text(stage: str, done: int, total: int, detail: str, started: float, now: float) -> str:
    """"scoring cases 120/6270 1% 37.50/s 02:44 left detail" (in the current language): the rate and the
    time left once a second has passed (sooner they are noise), as tqdm writes them."""
    text = f"{_(stage)} {done}/{total} {100 * done // total}%"
    if done and now - started >= 1:
        from tqdm import tqdm  # only on a terminal: pipes never pay for the import
        text += " " + tqdm.format_meter(done, total, now - started, unit="", bar_format=_("{rate_fmt} {remaining} left"))
    return text + (f" {detail}" if detail else "")


_line: ContextVar[_Line | None] = ContextVar("progress", default=None)


def report(stage: str, done: int, total: int, detail: str = "") -> None:
    """`done` of `total` in `stage` (detail: what is being done now); done == total ends the stage."""
    line = _line.get()
    if line is not None:
        line.show(stage, done, total, detail)


def clear() -> None:
    """Blank the progress line (it is drawn again at the next report)."""
    line = _line.get()
    if line is not None:
        line.draw("")


@contextmanager
def on_terminal(stream: TextIO | None = None):
    """Show progress on `stream` (stderr) while the block runs, if it is a terminal; clear the line after."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield
        return
    line = _Line(stream)
    token = _line.set(line)
    try:
        yield
    finally:
        _line.reset(token)
        line.draw("")
