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
    shown = next(block for block in code_blocks(README) if block.lstrip().startswith("合计"))
    printed = scoring("score", "--rules", REFERENCE, "--cases", SAMPLE, env=DEFAULT_LANGUAGE).stdout.splitlines()
    lines = [line for line in shown.splitlines() if line.strip() not in ("", "...")]
    assert len(lines) >= 8 and all(line in printed for line in lines), [line for line in lines if line not in printed]


# ---------------------------------------------------------------- the walkthroughs, each run as one session

def walkthroughs() -> dict[str, list[tuple[str, list[str]]]]:
    """Title -> the steps of each walkthrough under "## Walkthroughs": ("$ command", the lines shown under it)."""
    section = README[README.index("\n## Walkthroughs\n"):]
    section = section[:section.index("\n## ", 1)]
    found = {}
    for part in section.split("\n### ")[1:]:
        steps: list[tuple[str, list[str]]] = []
        for block in code_blocks(part):
            for line in block.splitlines():
                if line.startswith("$ "):
                    steps.append((line[2:], []))
                elif steps:
                    steps[-1][1].append(line)
        found[part.splitlines()[0]] = steps
    return found


RUN_ID = re.compile(r"recorded run ([0-9a-f]{12})")


@pytest.mark.parametrize("title", list(walkthroughs()))
def test_each_walkthrough_runs_as_written_and_shows_what_it_says(title, tmp_path):
    """Every `.venv/bin/scoring` step, in order, in one folder; each line shown (but "...") is in what it printed.
    Run ids depend on the time of recording: the README's ids stand for the ones this run made."""
    for folder in ("rules", "samples"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    steps = walkthroughs()[title]
    assert len([c for c, _ in steps if c.startswith(SCRIPT)]) >= 3, title
    ids: dict[str, str] = {}  # the README's run id -> this run's
    for command, shown in steps:
        if not command.startswith(SCRIPT):
            continue  # another program (soffice, head): what it shows is not the tool's
        args = []
        for arg in shlex.split(command[len(SCRIPT):]):
            named = [real for readme, real in ids.items() if len(arg) >= 4 and readme.startswith(arg)]
            args.append(named[0] if named else arg)
        run = scoring(*args, cwd=tmp_path)
        assert run.returncode == 0, f"{command}\n{run.stderr}"
        printed = (run.stdout + run.stderr).splitlines()
        for readme_id, real_id in zip(RUN_ID.findall("\n".join(shown)), RUN_ID.findall(run.stderr)):
            ids[readme_id] = real_id
        for readme_id, real_id in ids.items():
            printed = [line.replace(real_id, readme_id) for line in printed]
        missing = [line for line in shown if line.strip() not in ("", "...") and line not in printed]
        assert not missing, f"{command}: shown but not printed:\n" + "\n".join(missing)
