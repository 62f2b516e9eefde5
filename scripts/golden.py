"""Every output the tool writes, on the samples and on every shipped rulebook's fixtures, pinned.

The command lines below cover each command and format a user sees (tables, JSON, CSV, xlsx,
docx, HTML, explanations, self-checks, bulletins, diffs, verification, rule checks and tests). A
refactoring must leave every byte of them as it was; a deliberate change of an output is
made visible by rewriting the manifest in the same commit.

    python scripts/golden.py check            # run them here, compare with tests/golden/manifest.json
    python scripts/golden.py write            # rewrite the manifest from this tree (a deliberate change)
    python scripts/golden.py compare OLD_PY   # run each in this venv and with OLD_PY (the python of a
                                              # venv that has another commit installed), show what differs

The test suite runs `check` (tests/test_golden.py, tier "slow"). Outputs that hold the clock or the run
store's ids (runs list/show, replay, --record) are not here; tests/test_audit.py covers them.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "tests" / "golden" / "manifest.json"
OUT = "{out}"  # replaced by a temporary file; its bytes are the output
# the outputs are pinned in the default language, Chinese, which is what users see (the test suite
# itself runs in English: SCORING_LANG=en in tests/conftest.py)
LANGUAGE = {"SCORING_LANG": "zh"}


def commands() -> dict[str, list[str]]:
    """name -> argv (relative paths, run from the repository's root)."""
    rules, cases, xlsx = "rules/proposal-handling.toml", "samples/cases-2020.jsonl", "samples/register-2020.xlsx"
    waiver = "rules/overlays/phone-waiver.toml"
    base = ["--rules", rules, "--cases", cases]
    found = {
        "score-table": ["score", *base],
        "score-json": ["score", *base, "--format", "json"],
        "score-csv": ["score", *base, "--format", "csv"],
        "score-xlsx": ["score", *base, "--format", "xlsx", "--out", OUT],
        "score-html": ["score", *base, "--format", "html", "--out", OUT],
        "score-register-json": ["score", "--rules", rules, "--cases", xlsx, "--format", "json"],
        "score-waiver-json": ["score", *base, "--overlay", waiver, "--format", "json"],
        "score-set-table": ["score", *base, "--set", "f2f_points=4"],
        "explain-text": ["explain", *base, "--department", "市交通运输局"],
        "explain-case": ["explain", *base, "--department", "市交通运输局", "--case", "2020-J0002"],
        "explain-json": ["explain", *base, "--department", "市民政局", "--format", "json"],
        "explain-xlsx": ["explain", *base, "--department", "市民政局", "--format", "xlsx", "--out", OUT],
        "self-check-table": ["self-check", *base, "--department", "市民政局", "--as-of", "2020-06-05"],
        "self-check-json": ["self-check", *base, "--department", "市市场监管局", "--as-of", "2020-09-30", "--format", "json"],
        "self-check-csv": ["self-check", *base, "--department", "市民政局", "--as-of", "2020-06-05", "--format", "csv"],
        "self-check-xlsx": ["self-check", *base, "--department", "市民政局", "--as-of", "2020-06-05", "--format", "xlsx",
                            "--out", OUT],
        "bulletin-table": ["bulletin", *base, "--month", "2020-06"],
        "bulletin-json": ["bulletin", *base, "--month", "2020-03", "--format", "json"],
        "bulletin-html": ["bulletin", *base, "--month", "2020-11", "--format", "html", "--out", OUT],
        "bulletin-xlsx": ["bulletin", *base, "--month", "2020-06", "--format", "xlsx", "--out", OUT],
        "bulletin-docx": ["bulletin", *base, "--month", "2020-06", "--format", "docx", "--issuer", "市政府督查室",
                          "--issued", "2020-07-03", "--out", OUT],
        "rules-show-waiver": ["rules", "show", rules, "--overlay", waiver, "--set", "f2f_points=4"],
        "rules-test-table": ["rules", "test", "rules"],
        "rules-test-json": ["rules", "test", "rules", "--format", "json"],
        "schema": ["schema"],
        "import-register": ["import", xlsx, "--out", OUT],
    }
    for book in sorted((ROOT / "rules").glob("*.toml")):
        found[f"validate-{book.stem}"] = ["rules", "validate", f"rules/{book.name}"]
        for fixture in sorted((ROOT / "rules" / f"{book.stem}.tests").glob("*.toml")):
            spec = tomllib.loads(fixture.read_text(encoding="utf-8"))["fixture"]
            here = f"rules/{book.stem}.tests"
            argv = ["score", "--rules", f"rules/{book.name}", "--cases", f"{here}/{spec['cases']}"]
            if "departments" in spec:
                argv += ["--departments", f"{here}/{spec['departments']}"]
            if "period" in spec:
                argv += ["--period", spec["period"]]
            found[f"fixture-{book.stem}-{fixture.stem}-json"] = argv + ["--format", "json"]
            found[f"fixture-{book.stem}-{fixture.stem}-table"] = argv
    return found


def chained() -> dict[str, tuple[list[str], list[str]]]:
    """Commands that read another command's output: name -> (producer argv, consumer argv with {in}).

    The output of "verify-not-confirmed"'s producer is edited first (see CLAIMS)."""
    rules, cases, waiver = "rules/proposal-handling.toml", "samples/cases-2020.jsonl", "rules/overlays/phone-waiver.toml"
    base = ["--rules", rules, "--cases", cases]
    return {
        "verify-confirmed": (["score", *base, "--format", "json"], ["verify", "{in}", *base]),
        "verify-self-check": (["self-check", *base, "--department", "市民政局", "--as-of", "2020-06-05", "--format", "json"],
                              ["verify", "{in}", *base, "--format", "json"]),
        "verify-not-confirmed": (["score", *base, "--format", "json"], ["verify", "{in}", *base]),
        "verify-other-rules": (["score", *base, "--set", "f2f_points=4", "--format", "json"], ["verify", "{in}", *base]),
        "diff-table": (["score", *base, "--overlay", waiver, "--format", "json"], ["diff", "{base}", "{in}"]),
        "diff-json": (["score", *base, "--overlay", waiver, "--format", "json"], ["diff", "{base}", "{in}", "--format", "json"]),
    }


def _claim_more(ledger: dict) -> dict:
    """A department claims one point more in total, and one line of one of its cases says 5 instead of 2.5."""
    department = ledger["departments"][1]
    department["total"] += 1
    line = next(candidate for c in department["cases"] for candidate in c["lines"] if candidate["points"] == 2.5)
    line["points"] = 5
    return ledger


CLAIMS = {"verify-not-confirmed": _claim_more}

# inputs that fail: the error messages are output too
BAD_CASES = ('{"id": "2020-J0003", "kind": "suggestion", "handlers": [{"department": "甲局", "role": "lead"}], '
             '"events": [{"id": "e1", "type": "assigned", "date": "2020-13-10", "department": "甲局"}, '
             '{"id": "e2", "type": "signd", "date": "2020-03-11", "department": "甲局"}]}\n')
BAD_RULES = "rules/proposal-handling.toml"  # with one name misspelled, below


def failing() -> dict[str, tuple[dict[str, bytes], list[str]]]:
    """name -> (files to write in the temporary directory, argv with {tmp}); these print errors."""
    reference = (ROOT / BAD_RULES).read_text(encoding="utf-8")
    misspelled = reference.replace('when = "s.date <= sign_due"', 'when = "s.date <= sing_due"', 1)
    assert misspelled != reference
    rules, cases = "rules/proposal-handling.toml", "samples/cases-2020.jsonl"
    return {
        "error-bad-cases": ({"bad.jsonl": BAD_CASES.encode()}, ["score", "--rules", rules, "--cases", "{tmp}/bad.jsonl"]),
        "error-bad-rules": ({"bad.toml": misspelled.encode()}, ["score", "--rules", "{tmp}/bad.toml", "--cases", cases]),
        "error-validate": ({"bad.toml": misspelled.encode()}, ["rules", "validate", "{tmp}/bad.toml"]),
        "error-unknown-department": ({}, ["explain", "--rules", rules, "--cases", cases, "--department", "市民正局"]),
        "error-missing-file": ({}, ["score", "--rules", rules, "--cases", "{tmp}/absent.jsonl"]),
    }


# ---------------------------------------------------------------- running
def _in_process(argv: list[str]) -> tuple[int, bytes]:
    from click.testing import CliRunner

    from scoring.cli import main
    result = CliRunner().invoke(main, argv, catch_exceptions=False, env=LANGUAGE)
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


def _subprocess(python: str):
    def run(argv: list[str]) -> tuple[int, bytes]:
        # -P: without it `-c` puts the working directory (this tree) first on the path, and the other
        # venv's python would import this tree's scoring instead of its own
        done = subprocess.run([python, "-P", "-c", "from scoring.cli import main; main()", *argv], cwd=ROOT,
                              capture_output=True, timeout=600, env={**os.environ, **LANGUAGE})
        return done.returncode, done.stdout, done.stderr
    return run


def outputs(run=_in_process, only: set[str] | None = None) -> dict[str, tuple[int, bytes]]:
    """name -> (exit code, the bytes written: standard output, or the --out file).

    A command that fails has its standard error appended (the temporary directory's path
    replaced by {tmp}): what a user reads then is the error message."""
    found = {}
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            def one(name: str, argv: list[str]) -> tuple[int, bytes]:
                target = Path(tmp) / f"{name}.out"
                argv = [str(target) if a == OUT else a.replace("{tmp}", tmp) for a in argv]
                code, stdout, stderr = run(argv)
                data = target.read_bytes() if target.exists() else stdout
                if code != 0:
                    data += b"\n--- stderr\n" + stderr
                return code, data.replace(tmp.encode(), b"{tmp}")

            for name, argv in commands().items():
                if only is None or name in only:
                    found[name] = one(name, argv)
            base_ledger = Path(tmp) / "base-ledger.json"
            for name, (producer, consumer) in chained().items():
                if only is not None and name not in only:
                    continue
                produced = Path(tmp) / f"{name}.in.json"
                code, data, _ = run(producer)
                assert code == 0, f"{name}: the producing command failed ({code})"
                if name in CLAIMS:
                    data = (json.dumps(CLAIMS[name](json.loads(data)), ensure_ascii=False, indent=2) + "\n").encode()
                produced.write_bytes(data)
                if not base_ledger.exists():
                    base_ledger.write_bytes(run(["score", "--rules", "rules/proposal-handling.toml",
                                                 "--cases", "samples/cases-2020.jsonl", "--format", "json"])[1])
                found[name] = one(name, [a.replace("{in}", str(produced)).replace("{base}", str(base_ledger))
                                         for a in consumer])
            for name, (files, argv) in failing().items():
                if only is None or name in only:
                    for file_name, data in files.items():
                        (Path(tmp) / file_name).write_bytes(data)
                    found[name] = one(name, argv)
    finally:
        os.chdir(previous)
    return found


def manifest_of(found: dict[str, tuple[int, bytes]]) -> dict:
    return {name: {"exit": code, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, (code, data) in sorted(found.items())}


def mismatches(expected: dict, found: dict) -> list[str]:
    problems = [f"{name}: not run" for name in sorted(set(expected) - set(found))]
    problems += [f"{name}: not in the manifest (rewrite it: python scripts/golden.py write)"
                 for name in sorted(set(found) - set(expected))]
    for name in sorted(set(expected) & set(found)):
        if expected[name] != found[name]:
            problems.append(f"{name}: expected {expected[name]}, got {found[name]}")
    return problems


def _show_difference(name: str, old: tuple[int, bytes], new: tuple[int, bytes]) -> None:
    print(f"--- {name}: exit {old[0]} -> {new[0]}, {len(old[1])} -> {len(new[1])} bytes")
    try:
        a, b = old[1].decode("utf-8").splitlines(), new[1].decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return  # a workbook: only its hash differs
    for line in list(difflib.unified_diff(a, b, "old", "new", lineterm="", n=1))[:40]:
        print(line)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("check", "write", "compare"):
        print(__doc__)
        return 2
    if argv[0] == "compare":
        old, new = outputs(_subprocess(argv[1])), outputs(_subprocess(sys.executable))
        differing = [name for name in old if old[name] != new.get(name)]
        for name in differing:
            _show_difference(name, old[name], new[name])
        print(f"{len(old)} outputs compared; {len(differing)} differ")
        return 1 if differing else 0
    found = manifest_of(outputs())
    if argv[0] == "write":
        MANIFEST.parent.mkdir(exist_ok=True)
        MANIFEST.write_text(json.dumps(found, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(found)} outputs to {MANIFEST.relative_to(ROOT)}")
        return 0
    problems = mismatches(json.loads(MANIFEST.read_text(encoding="utf-8")), found)
    for problem in problems:
        print(problem)
    print(f"{len(found)} outputs checked; {len(problems)} differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
