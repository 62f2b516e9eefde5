"""The installed `scoring` script as a separate process, as a user runs it: the few things an
in-process run (clikit.scoring) cannot show. Everything else runs in process."""
from __future__ import annotations

import json

from casekit import REFERENCE, SAMPLE
from clikit import scoring, scoring_process


def test_the_readme_run_command_prints_the_ranking():
    run = scoring_process("score", "--rules", REFERENCE, "--cases", SAMPLE)
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout.split("\n")[0].startswith("合计  办件 209 件")  # the figures, then the table
    assert run.stdout.split("\n")[2].split()[:3] == ["排名", "部门", "主办/分办件"]
    assert run.stdout == scoring("score", "--rules", REFERENCE, "--cases", SAMPLE).stdout  # in process: the same bytes


def test_bad_input_exits_2_with_the_problem_on_stderr_and_nothing_on_stdout(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "C1", "kind": "proposal", "handlers": []}\n', encoding="utf-8")
    run = scoring_process("score", "--rules", REFERENCE, "--cases", bad)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith("error: ") and f"{bad}:1: case C1, handlers" in run.stderr and "Traceback" not in run.stderr


def test_out_writes_the_file_and_says_so(tmp_path):
    out = tmp_path / "ledger.json"
    run = scoring_process("score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "json", "--out", out)
    assert run.returncode == 0 and run.stdout == "" and run.stderr == f"wrote {out}\n"
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "scoring-ledger/1"


def test_version_and_help():
    version = scoring_process("--version")
    assert version.returncode == 0 and "version" in version.stdout
    assert "self-check" in scoring_process("--help").stdout


def test_what_the_cli_spells_for_help_is_what_the_library_uses():
    """The CLI names a few of the library's constants itself, so that --help imports nothing heavy."""
    from scoring.audit.store import DEFAULT_PATH, ENV
    from scoring.cli import commands
    assert commands.STORE_ENV == ENV and DEFAULT_PATH in commands.store_option(lambda: None).__click_params__[0].help
