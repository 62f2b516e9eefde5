"""Ctrl-C: the run stops within a second with exit status 130, and leaves no file behind.

A real process on a pseudo-terminal, as a user at a terminal has it: the signal goes to the
whole process group (the command and its worker processes), once the progress line shows that
cases are being scored.
"""
from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import time

import pytest
from casekit import REFERENCE, ROOT, SAMPLE
from clikit import SCRIPT, read_until_closed

COPIES = 30  # the sample year 30 times over: about ten seconds of scoring, never done before the signal


@pytest.fixture(scope="module")
def large_file(tmp_path_factory):
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    path = tmp_path_factory.mktemp("large") / "cases.jsonl"
    path.write_text("".join(json.dumps({**row, "id": f"{row['id']}-{copy}"}, ensure_ascii=False) + "\n"
                            for copy in range(COPIES) for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", ["2", "0"])
def test_ctrl_c_stops_within_a_second_with_130_and_no_file(large_file, tmp_path, jobs):
    out = tmp_path / "ledger.json"
    leader, follower = pty.openpty()
    process = subprocess.Popen([str(SCRIPT), "score", "--rules", REFERENCE, "--cases", large_file, "--jobs", jobs,
                                "--format", "json", "--out", out], stdout=subprocess.DEVNULL, stderr=follower,
                               cwd=ROOT, start_new_session=True)
    os.close(follower)
    try:
        shown = b""
        while b"scoring cases" not in shown:  # the progress line: the cases are read, scoring has begun
            chunk = os.read(leader, 4096)
            assert chunk, f"the run ended before scoring: {shown!r}"
            shown += chunk
        assert process.poll() is None
        pressed = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        status = process.wait(timeout=30)
        stopped = time.monotonic() - pressed
        shown += read_until_closed(leader)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(leader)
    assert status == 130
    assert stopped < 1.0, f"{stopped:.2f} s after Ctrl-C"
    assert "error: interrupted (Ctrl-C)" in shown.decode("utf-8")
    assert os.listdir(tmp_path) == []  # neither the ledger nor a temporary file beside it

