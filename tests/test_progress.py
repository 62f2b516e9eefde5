"""Progress on stderr: shown on a terminal, never in pipes (CI logs and redirected output stay clean)."""
from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import threading

from casekit import ROOT, SAMPLE
from clikit import SCRIPT, scoring_process

from scoring.base import progress

RULES = ROOT / "rules" / "proposal-handling.toml"
ARGS = ["bulletin", "--rules", RULES, "--cases", SAMPLE, "--month", "2020-06"]


def _on_a_terminal(args: list, env: dict | None = None) -> tuple[str, subprocess.CompletedProcess]:
    """Run the command line with stderr on a pseudo-terminal: what the terminal showed, and the result."""
    leader, follower = pty.openpty()
    chunks = []
    reader = threading.Thread(target=lambda: _drain(leader, chunks))
    reader.start()
    result = subprocess.run([str(SCRIPT), *map(str, args)], stdout=subprocess.PIPE, stderr=follower, cwd=ROOT, timeout=300,
                            env=env)
    os.close(follower)
    reader.join(timeout=30)
    os.close(leader)
    return b"".join(chunks).decode("utf-8"), result


def test_a_terminal_sees_progress_and_a_clean_line_after_it():
    shown, result = _on_a_terminal(ARGS)
    assert result.returncode == 0
    assert "month-end checks 0/15 0% 市知识产权局" in shown
    # redraws are at most every 0.1 s: which counts between the first and the last show depends on speed
    assert re.search(r"month-end checks (1[0-4]|[1-9])/15 ", shown), shown
    assert shown.endswith("\r\x1b[K")
    assert "\x1b" not in result.stdout.decode("utf-8")  # the bulletin itself is untouched


def test_the_progress_line_speaks_chinese_by_default():
    env = {name: value for name, value in os.environ.items() if name not in ("SCORING_LANG", "LC_ALL", "LC_MESSAGES")}
    shown, result = _on_a_terminal(ARGS, {**env, "LANG": "C.UTF-8"})
    assert result.returncode == 0
    assert "月末核查 0/15 0% 市知识产权局" in shown and "month-end" not in shown


def _drain(fd: int, chunks: list) -> None:
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # the other end closed
            return
        if not data:
            return
        chunks.append(data)


def test_pipes_see_no_progress():
    result = scoring_process(*ARGS)  # a real process: its stderr a real pipe
    assert result.returncode == 0 and result.stderr == ""


def test_report_without_a_terminal_is_a_no_op(capsys):
    with progress.on_terminal():  # pytest's captured stderr is not a terminal
        progress.report("scoring cases", 1, 2)
    assert capsys.readouterr().err == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nested_stages_share_the_line_and_a_finished_stage_leaves_it():
    screen = Terminal()
    with progress.on_terminal(screen):
        progress.report("month-end checks", 0, 2, "市民政局")
        progress.report("scoring cases", 200, 400)
        progress.report("scoring cases", 400, 400)
        progress.report("month-end checks", 2, 2)
        written = screen.getvalue()
    assert written.split("\r\x1b[K")[1:] == ["month-end checks 0/2 0% 市民政局",
                                             "month-end checks 0/2 0% 市民政局 · scoring cases 200/400 50%",
                                             "month-end checks 0/2 0% 市民政局", ""]
    assert screen.getvalue().endswith("\r\x1b[K")


def test_a_message_after_clear_starts_on_a_clean_line():
    screen = Terminal()
    with progress.on_terminal(screen):
        progress.report("month-end checks", 1, 15, "市民政局")
        progress.clear()
        screen.write("error: something\n")
    assert "市民政局\r\x1b[Kerror: something\n" in screen.getvalue()


def test_an_error_on_a_terminal_is_not_glued_to_the_progress_line(tmp_path):
    broken = tmp_path / "broken.toml"  # a due date that is a number for cases not yet replied to: fails mid-run
    text = (ROOT / "rules" / "proposal-handling.toml").read_text(encoding="utf-8")
    broken.write_text(text.replace('due = "reply_due"', 'due = "reply_due if exists(reply) else 1"', 1), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    shown, result = _on_a_terminal(["bulletin", "--rules", broken, "--cases", SAMPLE, "--month", "2020-06"])
    assert result.returncode == 2 and "month-end checks" in shown and "\r\x1b[Kerror: " in shown and "not a date" in shown


def test_after_a_second_the_line_shows_the_rate_and_the_time_left(monkeypatch):
    clock = iter([100.0, 100.4, 102.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    screen = Terminal()
    with progress.on_terminal(screen):
        progress.report("scoring cases", 0, 1000)
        progress.report("scoring cases", 10, 1000)  # 0.4 s in: too soon for a rate
        progress.report("scoring cases", 100, 1000)
    assert screen.getvalue().split("\r\x1b[K")[1:] == [
        "scoring cases 0/1000 0%", "scoring cases 10/1000 1%", "scoring cases 100/1000 10% 50.00/s 00:18 left", ""]
