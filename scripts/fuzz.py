"""Mutation fuzzer: the shipped rule files, case files and registers, changed at random, through the CLI.

    python scripts/fuzz.py --inputs 2000 --seed 1 --out fuzz-findings [--targets rules,cases,register]

Each input is one shipped file mutated (its bytes; a TOML value; an expression of a rulebook; a
field of a case file's JSON; a cell of the register) and given to the commands that read it
(`rules validate`, `score`, `import`, `rules test`), each run through click's CliRunner in a
forked child with a time limit, so that a native crash (a signal) and a hang are seen too.
A finding is a traceback, an exit status outside 0-3, a signal or a hang; each is printed
with its input, which is saved to --out. The last line gives the figures; the exit status
is 1 when there was any finding. tests/test_fuzz.py runs a bounded number from a fixed seed.
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import random
import sys
import time
import tomllib
import traceback
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
RULEBOOKS = sorted((ROOT / "rules").glob("*.toml"))
CASE_FILES = [ROOT / "samples" / "cases-2020.jsonl", *sorted((ROOT / "rules").glob("*.tests/*.jsonl"))]
REGISTER = ROOT / "samples" / "register-2020.xlsx"
TARGETS = ("rules", "cases", "register")
CASES_KEPT = 30  # cases of the sample year a run scores: enough for every rule, quick

# values that have broken programs like this one
NUMBERS = [0, -1, 1, 2**63, -(2**63) - 1, 10**30, 10**31, Decimal("1e999999999"), Decimal("-1e999999999"),
           Decimal("1e-999999999"), Decimal("0.1"), Decimal("NaN"), Decimal("Infinity"), 10**4000, 1000000000]
TEXTS = ["", " ", "x" * 100_000, "{", "}", "{x}", "{0}", "{criterion:>999999999}", "\u2028", "\x00", "e\u0301",
         "1e999999999", "null", "first reply", "9999-12-31", "nan", "params.x", "__class__"]
EXPRESSION_PARTS = ["1e999999999", "1000000000", "10 ** 9", "round(x, 1000000000)", "percent(1, 1000000000)",
                    "add_days(date('9999-12-31'), 1)", "date('0001-01-01') - 1", "'a' + 'a'", "(((((1)))))",
                    "-" * 120 + "1", "first(reply)", "count(events)", "x.__class__", "[1, 2][5]", "1 / 0",
                    "null", "not", "exists(c for c in contact if exists(reply))", "tier(1, 2)", "len(params)"]


@dataclass
class Input:
    kind: str  # what was mutated and how
    files: dict[str, bytes]  # name -> content, written to a directory of its own
    commands: list[list[str]]  # arguments; {name} is replaced by the path of that file


@dataclass
class Finding:
    what: str  # traceback | exit status N | signal N | hang
    command: list[str]
    detail: str


# ---------------------------------------------------------------- mutators
def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(data)) if data else 0
        action = rng.random()
        if action < 0.4 and data:
            data[position] = rng.randrange(256)
        elif action < 0.7:
            data[position:position] = bytes(rng.choice([b"[", b"{", b"\"", b"\n", b"=", b"9" * 50, b"\xff", b"\x00"]))
        else:
            del data[position:position + rng.randint(1, 20)]
    return bytes(data)


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, path + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, path + (index,))
    else:
        yield path, value


def _put(data, path, value):
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _weird(rng: random.Random):
    pick = rng.random()
    if pick < 0.45:
        return rng.choice(NUMBERS)
    if pick < 0.8:
        return rng.choice(TEXTS)
    if pick < 0.9:
        depth = rng.choice([1, 5, 30])
        value: object = 1
        for _ in range(depth):
            value = [value]
        return value
    return rng.choice([True, {"from": "a"}, [{"from": 1, "below": "x"}], {}])


def mutate_toml(rng: random.Random, text: str) -> str | None:
    data = tomllib.loads(text, parse_float=Decimal)
    leaves = list(_leaves(data))
    for _ in range(rng.randint(1, 3)):
        path, _value = rng.choice(leaves)
        _put(data, path, _weird(rng))
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError):
        return None


def mutate_expression(rng: random.Random, text: str) -> str | None:
    """A string of the rulebook that is an expression or a sentence, changed."""
    data = tomllib.loads(text, parse_float=Decimal)
    strings = [(path, value) for path, value in _leaves(data) if isinstance(value, str)
               and (path[-1] in ("when", "points", "max", "min", "of", "hit", "due", "by", "score", "text", "otherwise",
                                 "base") or path[0] == "let")]
    if not strings:
        return None
    for _ in range(rng.randint(1, 2)):
        path, value = rng.choice(strings)
        part = rng.choice(EXPRESSION_PARTS)
        action = rng.random()
        if path[-1] in ("text", "otherwise"):
            changed = value + "{" + part + "}"
        elif action < 0.3:
            changed = part
        elif action < 0.6:
            changed = f"({value}) {rng.choice(['+', '*', '-', '/', 'and', 'or', '<', '=='])} ({part})"
        elif action < 0.8:
            changed = f"{rng.choice(['round', 'abs', 'max', 'min', 'present', 'len', 'percent'])}({value})"
        else:
            changed = f"({value}) * ({value}) * ({value})"
        _put(data, path, changed)
    if rng.random() < 0.3 and data.get("let"):  # lets out of order, or in a chain
        names = list(data["let"])
        rng.shuffle(names)
        data["let"] = {name: data["let"][name] for name in names}
    if rng.random() < 0.2:
        data.setdefault("let", {})["z0"] = "99999999"
        for i in range(1, 30):
            data["let"][f"z{i}"] = f"z{i - 1} * z{i - 1}"
    return tomli_w.dumps(data)


def mutate_json_lines(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(lines))
        try:
            row = json.loads(lines[index])
        except ValueError:
            continue
        leaves = list(_leaves(row))
        if not leaves:
            continue
        path, _value = rng.choice(leaves)
        weird = _weird(rng)
        if isinstance(weird, Decimal):
            weird = str(weird) if not weird.is_finite() else float(weird) if abs(weird.adjusted()) < 300 else str(weird)
        _put(row, path, weird)
        lines[index] = json.dumps(row, ensure_ascii=False)
    return "\n".join(lines) + "\n"


def mutate_register(rng: random.Random, raw: bytes) -> bytes:
    from openpyxl import load_workbook
    from openpyxl.cell.cell import MergedCell
    from openpyxl.utils.exceptions import IllegalCharacterError
    book = load_workbook(io.BytesIO(raw))
    for _ in range(rng.randint(1, 4)):
        sheet = rng.choice(book.worksheets)
        cell = sheet.cell(rng.randint(1, min(sheet.max_row, 40)), rng.randint(1, sheet.max_column))
        if isinstance(cell, MergedCell):  # (covered by a merged range: read-only; the range's first cell holds it)
            continue
        weird = _weird(rng)
        if isinstance(weird, int) and not isinstance(weird, bool) and abs(weird) > 2**1000:
            weird = str(weird)  # a cell holds a double: a larger number can only be written as text
        try:
            cell.value = (str(weird) if isinstance(weird, (Decimal, list, dict)) else weird) if rng.random() < 0.8 \
                else rng.choice(["=1+1", "=A1", "2020/13/45", "\u2028"])
        except IllegalCharacterError:  # a control character no workbook can hold: Excel would not write it either
            continue
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_input(rng: random.Random, targets: tuple[str, ...], cases: bytes) -> Input | None:
    target = rng.choice(targets)
    if target == "rules":
        rulebook = rng.choice(RULEBOOKS)
        text = rulebook.read_text(encoding="utf-8")
        how = rng.choice(["bytes", "toml", "expression", "expression"])
        if how == "bytes":
            changed = flip_bytes(rng, text.encode("utf-8"))
        else:
            mutated = (mutate_toml if how == "toml" else mutate_expression)(rng, text)
            if mutated is None:
                return None
            changed = mutated.encode("utf-8")
        tests = rulebook.with_suffix(".tests")
        commands = [["rules", "validate", "{rules.toml}"],
                    ["score", "--rules", "{rules.toml}", "--cases", "{cases.jsonl}", "--jobs", "0"]]
        files = {"rules.toml": changed, "cases.jsonl": _cases_for(rulebook, cases)}
        if rulebook.stem == "proposal-handling" and rng.random() < 0.2:
            commands.append(["score", "--rules", "{rules.toml}", "--cases", "{cases.jsonl}", "--jobs", "2"])
        if tests.is_dir() and rng.random() < 0.3:
            files = {f"book/{rulebook.name}": changed,
                     **{f"book/{tests.name}/{p.name}": p.read_bytes() for p in tests.iterdir() if p.is_file()},
                     "cases.jsonl": files["cases.jsonl"]}
            commands = [["rules", "test", "{book}"]]
        return Input(f"rules/{rulebook.name}: {how}", files, commands)
    if target == "cases":
        source = rng.choice(CASE_FILES)
        raw = cases if source.name == "cases-2020.jsonl" and source.parent.name == "samples" else source.read_bytes()
        how = rng.choice(["bytes", "json", "json"])
        changed = flip_bytes(rng, raw) if how == "bytes" else mutate_json_lines(rng, raw.decode("utf-8")).encode("utf-8")
        rules = "rules/proposal-handling.toml" if source.parent.name == "samples" else \
            str(source.parent.with_suffix(".toml").relative_to(ROOT))
        if "departments" in source.name:
            return None  # a department records file: given with --departments, not a case file
        return Input(f"{source.relative_to(ROOT)}: {how}", {"cases.jsonl": changed},
                     [["score", "--rules", str(ROOT / rules), "--cases", "{cases.jsonl}", "--jobs", "0"]])
    raw = REGISTER.read_bytes()
    how = rng.choice(["bytes", "cells", "cells"])
    changed = flip_bytes(rng, raw) if how == "bytes" else mutate_register(rng, raw)
    return Input(f"{REGISTER.relative_to(ROOT)}: {how}", {"register.xlsx": changed},
                 [["import", "{register.xlsx}", "--out", "{cases-out.jsonl}"]])


def _cases_for(rulebook: Path, cases: bytes) -> bytes:
    tests = rulebook.with_suffix(".tests")
    own = sorted(p for p in tests.glob("*.jsonl") if "departments" not in p.name) if tests.is_dir() else []
    return own[0].read_bytes() if own else cases


# ---------------------------------------------------------------- running
def _child(connection, args, cwd):
    from click.testing import CliRunner

    from scoring.cli import main
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, args)
        tb = ""
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            tb = "".join(traceback.format_exception(result.exception))
        connection.send((result.exit_code, tb, result.output[-2000:]))
    except BaseException:
        connection.send((99, traceback.format_exc(), ""))


def run_command(args: list[str], cwd: Path, seconds: float) -> Finding | None:
    context = mp.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, args, str(cwd)))
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            child.kill()
            child.join()
            return Finding("hang", args, f"still running after {seconds} s")
        code, tb, output = receive.recv()
    except EOFError:  # the child died without answering: a signal
        child.join()
        return Finding(f"signal {-child.exitcode}", args, "the process was killed")
    finally:
        receive.close()
    child.join()
    if tb:
        return Finding("traceback", args, tb)
    if code not in (0, 1, 2, 3):
        return Finding(f"exit status {code}", args, output)
    return None


def fuzz(inputs: int, seed: int, seconds: float, out: Path | None, targets=TARGETS, echo=print) -> dict:
    # loaded once here, so that each forked run starts with them
    import scoring.app
    import scoring.checks.ruletests
    import scoring.cli
    import scoring.reports.text  # noqa: F401
    rng = random.Random(seed)
    cases = b"".join((ROOT / "samples" / "cases-2020.jsonl").read_bytes().splitlines(True)[:CASES_KEPT])
    counts = {"inputs": 0, "runs": 0, "traceback": 0, "exit status": 0, "signal": 0, "hang": 0}
    work = Path(out or ".") / "work" if out else None
    import tempfile
    scratch = Path(tempfile.mkdtemp(prefix="fuzz-")) if work is None else work
    while counts["inputs"] < inputs:
        made = make_input(rng, targets, cases)
        if made is None:
            continue
        counts["inputs"] += 1
        place = scratch / f"input-{counts['inputs']}"
        for name, content in made.files.items():
            (place / name).parent.mkdir(parents=True, exist_ok=True)
            (place / name).write_bytes(content)
        keep = False
        for command in made.commands:
            args = [str(place / part[1:-1]) if part.startswith("{") else part for part in command]
            counts["runs"] += 1
            finding = run_command(args, ROOT, seconds)
            if finding is None:
                continue
            kind = finding.what.split(" ")[0] if not finding.what.startswith("exit") else "exit status"
            counts[kind] += 1
            keep = True
            echo(f"FINDING {finding.what}: input {counts['inputs']} ({made.kind}), saved in {place}\n"
                 f"  command: scoring {' '.join(args)}\n  " + finding.detail.strip().replace("\n", "\n  ")[-1500:])
        if not keep and out is not None:
            for path in sorted(place.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            place.rmdir()
    findings = counts["traceback"] + counts["exit status"] + counts["signal"] + counts["hang"]
    echo(f"{counts['inputs']} inputs ({counts['runs']} runs): {counts['traceback']} tracebacks, "
         f"{counts['exit status']} bad exit statuses, {counts['signal']} signals, {counts['hang']} hangs"
         f"{'' if findings else ' — no finding'}")
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20, help="seconds per command")
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"), help="where inputs with findings are kept")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"some of {', '.join(TARGETS)}")
    options = parser.parse_args(argv)
    targets = tuple(t for t in options.targets.split(",") if t)
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    counts = fuzz(options.inputs, options.seed, options.timeout, options.out, targets)
    print(f"({time.monotonic() - started:.0f} s)")
    return 1 if counts["traceback"] + counts["exit status"] + counts["signal"] + counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
