"""Options given twice: click keeps the last one, so `--cases a --cases b` scored b alone and exited 0.

Every option that takes one value (or is a flag) is refused when repeated, before anything is read.
"""
import click
import pytest
from casekit import REFERENCE, SAMPLE
from clikit import scoring

from scoring.cli import main


def test_cases_given_twice_is_refused_not_half_the_year(tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines[:100]) + "\n", encoding="utf-8")
    second.write_text("\n".join(lines[100:]), encoding="utf-8")
    run = scoring("score", "--rules", REFERENCE, "--cases", first, "--cases", second)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.endswith("Error: --cases was given 2 times; give it once (only the last would count, and the others "
                               "would be ignored without a word)\n")


@pytest.mark.parametrize("repeated", [("--department", "市民政局", "--department", "市教育局"),
                                      ("--rules", REFERENCE, "--rules", REFERENCE)])
def test_department_and_rules_given_twice_are_refused(repeated):
    run = scoring("explain", "--cases", SAMPLE, *(("--rules", REFERENCE) if repeated[0] != "--rules" else ()),
                  *(("--department", "市民政局") if repeated[0] != "--department" else ()), *repeated)
    assert run.returncode == 2 and run.stdout == "" and f"Error: {repeated[0]} was given 2 times" in run.stderr


def single_valued_options():
    """(command path, option) for every option of every command that takes one value or is a flag."""
    def walk(command, path):
        for param in command.params:
            if isinstance(param, click.Option) and not param.multiple and not param.count and param.expose_value:
                yield path, param
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, path + (name,))
    return list(walk(main, ()))


def test_every_option_that_takes_one_value_is_refused_when_repeated():
    found = single_valued_options()
    assert len(found) > 40 and {p.opts[0] for _, p in found} >= {"--cases", "--rules", "--department", "--out", "--format"}
    for path, param in found:
        given = [param.opts[0]] if param.is_flag else [param.opts[0], "x"]
        run = scoring(*path, *given, *given)
        assert run.returncode == 2, (path, param.opts, run.stderr)
        assert f"Error: {'/'.join(param.opts + param.secondary_opts)} was given 2 times" in run.stderr, (path, param.opts)


def test_repeatable_options_stay_repeatable_and_help_still_shows():
    run = scoring("rules", "show", REFERENCE, "--set", "sign_points=4", "--set", "co_points=90")
    assert run.returncode == 0 and "set(co_points=90,sign_points=4)" in run.stdout
    run = scoring("score", "--jobs", "1", "--jobs", "2", "--help")
    assert run.returncode == 0 and "--cases" in run.stdout
