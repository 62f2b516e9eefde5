"""The README as a new user follows it: every `scoring` command in its code blocks runs as written
on the samples and writes what it says, and the ranking it shows is the one the command prints."""
from __future__ import annotations

import re
import shlex

import pytest
from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring

README = (ROOT / "README.md").read_text(encoding="utf-8")
SCRIPT = ".venv/bin/scoring "
# as a new user runs them: no language asked for, so Chinese (the rest of the suite runs in English)
DEFAULT_LANGUAGE = {"SCORING_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)


def readme_commands() -> list[str]:
    """Each `.venv/bin/scoring ...` of the README's code blocks (the first set-up command's last part too)."""
    found = []
    for block in code_blocks(README):
        for line in block.splitlines():
            for part in line.split("&&"):
                command = part.strip()[len(SCRIPT):]
                # `serve` runs until it is stopped: tests/test_web_browser.py starts it as a process and stops it
                if part.strip().startswith(SCRIPT) and not command.startswith("serve"):
                    found.append(command)
    return found


def test_the_readme_has_commands_to_run():
    assert len(readme_commands()) >= 8


def short(command: str) -> str:
    return re.sub(r"--(rules|cases) \S+ ", "", command.split("#")[0]).strip()


@pytest.mark.parametrize("command", readme_commands(), ids=short)
def test_each_command_of_the_readme_runs_as_written(command, tmp_path):
    for folder in ("rules", "samples"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    args = [str(tmp_path / arg[len("/tmp/"):]) if arg.startswith("/tmp/") else arg for arg in shlex.split(command, comments=True)]
    run = scoring(*args, cwd=tmp_path, env=DEFAULT_LANGUAGE)
    assert run.returncode == 0, f"{command}\n{run.stderr}"
    if "--out" in args:
        written = tmp_path / args[args.index("--out") + 1]
        assert written.stat().st_size > 0 and f"已写入 {args[args.index('--out') + 1]}" in run.stderr


def test_the_ranking_the_readme_shows_is_the_one_printed():
    shown = next(block for block in code_blocks(README) if block.lstrip().startswith("排名"))
    printed = scoring("score", "--rules", REFERENCE, "--cases", SAMPLE, env=DEFAULT_LANGUAGE).stdout.splitlines()
    lines = [line for line in shown.splitlines() if line.strip() not in ("", "...")]
    assert len(lines) >= 8 and all(line in printed for line in lines), [line for line in lines if line not in printed]
