"""Tables on a narrow terminal: every line fits, the rank, department, total and grade stay, and
what is left out is said; piped or written to a file, the table is whole whatever the window."""
from __future__ import annotations

import json
import os
import pty
import subprocess

import pytest
from casekit import REFERENCE, ROOT, SAMPLE
from clikit import SCRIPT, read_until_closed, scoring
from wcwidth import wcswidth

from scoring.reports import text
from scoring.reports.terminal import wrapped

WIDTHS = (60, 80, 100, 120)


@pytest.fixture(scope="module")
def ledger():
    return json.loads(scoring("score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "json").stdout)


@pytest.fixture(scope="module")
def bulletin():
    return json.loads(scoring("bulletin", "--rules", REFERENCE, "--cases", SAMPLE, "--month", "2020-06",
                              "--format", "json").stdout)


def widest(output: str) -> int:
    return max(wcswidth(line) for line in output.splitlines())


@pytest.mark.parametrize("width", WIDTHS)
def test_the_ranking_fits_and_keeps_what_a_ranking_is(ledger, width):
    shown = text.ranking_table(ledger, width)
    assert widest(shown) <= width
    header = shown.splitlines()[0].split()
    assert header[:2] == ["排名", "部门"] and header[-2:] == ["总分", "等级"]
    left_out = [h for h in ("主办/分办件", "会办件", "基础分", "D1", "D2") if h not in header]
    assert bool(left_out) == ("未显示" in shown)
    for department in ledger["departments"]:  # every total is there, on its department's first line
        assert any(line.split()[:1] == [str(department["rank"])] and f"{department['total']:.2f}" in line
                   for line in shown.splitlines())


@pytest.mark.parametrize("width", WIDTHS)
def test_the_bulletin_fits(bulletin, width):
    shown = text.bulletin(bulletin, width)
    assert widest(shown) <= width
    assert "2020-J0068" in shown and "市城市管理和综合" in shown


def test_a_wide_terminal_and_a_pipe_get_the_whole_table(ledger, bulletin):
    assert text.ranking_table(ledger, 400) == text.ranking_table(ledger)
    assert text.bulletin(bulletin, 400) == text.bulletin(bulletin)
    assert widest(text.ranking_table(ledger)) > 100  # what the narrow widths above had to fit


def test_prose_wraps_between_characters_never_inside_an_id_or_a_date():
    lines = wrapped(["规则 proposal-handling 1.0.0 (sha256 e290a345871c) · 办件 209 件"], 24)
    assert lines == ["规则 proposal-handling", "1.0.0 (sha256", "e290a345871c) · 办件 209", "件"]
    assert wrapped(["whole"], None) == ["whole"]


def test_on_an_80_column_terminal_the_command_fits_its_table():
    leader, follower = pty.openpty()
    run = subprocess.run([str(SCRIPT), "score", "--rules", REFERENCE, "--cases", SAMPLE], stdout=follower,
                         stderr=subprocess.PIPE, cwd=ROOT, env={**os.environ, "COLUMNS": "80"}, timeout=120)
    os.close(follower)
    shown = read_until_closed(leader)
    os.close(leader)
    assert run.returncode == 0, run.stderr
    output = shown.decode("utf-8").replace("\r\n", "\n")
    assert widest(output) <= 80 and "（终端宽 80 列，未显示：" in output

