"""The differential tester: random rulebooks and case files, scored by the product and by the
independent interpreter (ruleinterp.py), compared line by line; disagreements shrunk.

`run(seed, pairs)` draws rulebooks from `seed`, scores `CASE_FILES_PER_BOOK` case files with
each (one compiled rulebook, one set of native rulesets per rulebook), and returns the
counts and every disagreement. `minimise` shrinks a disagreement by delta debugging: it
drops criteria, rules, conjuncts of a `when`, lets, options, cases, handlers, events and
fields one at a time, keeping each change after which the two still disagree.
"""
from __future__ import annotations

import ast
import collections
import copy
import datetime as dt
import json
import random
import re
import time
from dataclasses import dataclass, field
from fractions import Fraction

from randomrules import random_case_file, random_records, random_rulebook, to_toml
from ruleinterp import (
    InterpError,
    Interpreter,
    department_view,
    handler_view,
    product_department_view,
    product_handler_view,
)

from scoring.base.errors import ScoringError
from scoring.domain.cases import Case
from scoring.engine.compiler import compile_rulebook
from scoring.engine.evaluate import CaseError, CaseEvaluator, ScoringSetting
from scoring.engine.rollup import roll_up
from scoring.inputs.records import department_values, parse_departments
from scoring.lang import values as V
from scoring.rulebook.load import parse_rulebook

CASE_FILES_PER_BOOK = 8


@dataclass
class Disagreement:
    book: dict
    cases: list[dict]
    records: dict | None
    what: str  # the first difference, in words

    def report(self) -> str:
        return (f"--- disagreement: {self.what}\n--- rulebook:\n{to_toml(self.book)}--- cases:\n"
                + "\n".join(json.dumps(c, ensure_ascii=False) for c in self.cases)
                + (f"\n--- department records:\n{json.dumps(self.records, ensure_ascii=False)}" if self.records else "")
                + "\n--- as one line (scripts/difftest.py --replay):\n"
                + json.dumps({"book": self.book, "cases": self.cases, "records": self.records}, ensure_ascii=False) + "\n")


@dataclass
class Tally:
    pairs: int = 0
    books: int = 0
    refused: int = 0  # rulebooks the product refuses at load time
    errors: int = 0  # pairs on which both sides fail on the data (a rule's error on a case)
    fired: int = 0  # rule lines both sides agree on (the comparison is not vacuous)
    refusals: collections.Counter = field(default_factory=collections.Counter)  # why, for rulebooks refused
    seconds: float = 0.0
    disagreements: list[Disagreement] = field(default_factory=list)


class Loaded:
    """One rulebook, compiled by the product (with its engine rules registered) and by the interpreter."""

    def __init__(self, book: dict):
        text = to_toml(book)
        self.fields = None
        self.book = parse_rulebook(text.encode("utf-8"), "random.toml")
        self.compiled = compile_rulebook(self.book)
        self.evaluator = CaseEvaluator(self.compiled)
        self.interpreter = Interpreter(self.book)
        self.as_of = dt.date.fromisoformat(book["as_of"]) if book.get("as_of") else None  # see randomrules.py

    def close(self) -> None:
        self.evaluator.close()


def load(book: dict, refusals: collections.Counter | None = None) -> Loaded | None:
    """None when the product refuses the rulebook (at load time, with its reasons, counted in refusals)."""
    try:
        return Loaded(book)
    except ScoringError as exc:
        if refusals is not None:
            problems = getattr(exc, "problems", None) or [exc]
            # the reason without the place, the quoted source or the names in it
            reason = str(problems[0]).split(": ", 2)[-1].split(" — ")[0]
            refusals[re.sub(r'"[^"]*"|\b\w*\d\w*\b|\b[a-z]\b', "…", reason)] += 1
        return None


def product(loaded: Loaded, cases: list[Case], records: dict | None):
    fields = loaded.book.spec.department_fields
    given = None
    if fields:
        raw = "\n".join(json.dumps({"department": name, **record}, ensure_ascii=False)
                        for name, record in (records or {}).items())
        given = parse_departments(raw.encode("utf-8"), "records.jsonl", fields)
    values = department_values(cases, given, fields)
    loaded.evaluator.configure(ScoringSetting(departments=values, as_of=loaded.as_of))
    results = [r for case in cases for r in loaded.evaluator.evaluate(case)]
    departments = roll_up(loaded.compiled, results, values, loaded.as_of)
    return ([product_handler_view(r) for r in results],
            {d.department: product_department_view(d) for d in departments})


def interpreted(loaded: Loaded, cases: list[Case], records: dict | None):
    handlers, departments = loaded.interpreter.score(cases, records if loaded.book.spec.department_fields else None,
                                                     loaded.as_of)
    return [handler_view(h) for h in handlers], {d["department"]: department_view(d) for d in departments}


DATA_ERRORS = (CaseError, ScoringError, V.EvalError, InterpError)
ERROR = ""  # compare(): both sides fail on the data, as they should


def rule_lines(result) -> int:
    handlers, _ = result
    return sum(1 for h in handlers for line in h[6] + h[7] if line["rule"] is not None)


def compare(loaded: Loaded, case_data: list[dict], records: dict | None) -> str | int:
    """The first difference; when both agree, the number of rule lines they agree on (ERROR: both fail on the data)."""
    cases = [Case.model_validate(c) for c in case_data]
    outcomes = []
    for side in (product, interpreted):
        try:
            outcomes.append(("ok", side(loaded, cases, records)))
        except DATA_ERRORS as exc:
            outcomes.append(("error", f"{type(exc).__name__}: {exc}"))
        except Exception as exc:  # a crash of either side is a finding, never a pass
            outcomes.append(("crash", f"{type(exc).__name__}: {exc}"))
    (pk, pv), (ik, iv) = outcomes
    if pk == ik == "error":
        return ERROR
    if pk != "ok" or ik != "ok":
        return f"product {pk} ({pv if pk != 'ok' else '-'}), interpreter {ik} ({iv if ik != 'ok' else '-'})"
    difference = first_difference(pv, iv)
    return difference if difference is not None else rule_lines(iv)


def first_difference(got, expected) -> str | None:
    (p_handlers, p_departments), (i_handlers, i_departments) = got, expected
    if len(p_handlers) != len(i_handlers):
        return f"{len(p_handlers)} handler results against {len(i_handlers)}"
    for p, i in zip(p_handlers, i_handlers):
        if p != i:
            return f"case {p[0]} {p[1]}: " + _diff(p, i, ("case", "department", "role", "rubric", "category", "total",
                                                          "lines", "department_lines", "rates"))
    if p_departments.keys() != i_departments.keys():
        return f"departments {sorted(p_departments)} against {sorted(i_departments)}"
    for name, p in p_departments.items():
        i = i_departments[name]
        if p != i:
            keys = [k for k in p if p[k] != i.get(k)]
            return f"department {name}: {keys[0]}: product {_show(p[keys[0]])} interpreter {_show(i[keys[0]])}"
    return None


def _diff(p: tuple, i: tuple, names: tuple) -> str:
    for name, a, b in zip(names, p, i):
        if a != b:
            return f"{name}: product {_show(a)} interpreter {_show(b)}"
    return "?"


def _show(value) -> str:
    def plain(v):
        if isinstance(v, Fraction):
            return str(v)
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v if isinstance(v, (int, str, bool, type(None))) else str(v)
    return json.dumps(plain(value), ensure_ascii=False)


def check(book: dict, cases: list[dict], records: dict | None) -> str | None:
    """The first difference for one pair; None when they agree or the product refuses the rulebook."""
    loaded = load(book)
    if loaded is None:
        return None
    try:
        found = compare(loaded, cases, records)
        return found if isinstance(found, str) and found != ERROR else None
    finally:
        loaded.close()


def run(seed: int, pairs: int, progress=None, minimise_found: bool = True) -> Tally:
    tally = Tally()
    rng = random.Random(seed)
    start = time.perf_counter()
    while tally.pairs < pairs:
        book = random_rulebook(rng)
        files = [(random_case_file(rng), random_records(rng)) for _ in range(min(CASE_FILES_PER_BOOK, pairs - tally.pairs))]
        tally.books += 1
        tally.pairs += len(files)
        loaded = load(book, tally.refusals)
        if loaded is None:
            tally.refused += len(files)
            continue
        try:
            for cases, records in files:
                what = compare(loaded, cases, records)
                if what == ERROR:
                    tally.errors += 1
                if not isinstance(what, str) or what == ERROR:
                    tally.fired += what or 0
                    continue
                found = Disagreement(book, cases, records, what)
                tally.disagreements.append(minimise(found) if minimise_found else found)
                if progress:
                    progress(tally.disagreements[-1])
        finally:
            loaded.close()
    tally.seconds = time.perf_counter() - start
    return tally


# ------------------------------------------------------------------ shrinking

def minimise(found: Disagreement) -> Disagreement:
    """The smallest rulebook and case file (one change at a time) on which the two still disagree."""
    book, cases, records = found.book, found.cases, found.records
    what = found.what
    changed = True
    while changed:
        changed = False
        for candidate in _smaller(book, cases, records):
            difference = check(*candidate)
            if difference is not None and _same_kind(difference, what):
                book, cases, records = candidate
                what = difference
                changed = True
                break
    return Disagreement(book, cases, records, what)


def _same_kind(a: str, b: str) -> bool:
    """Shrinking keeps a crash a crash and a mismatch a mismatch."""
    return ("crash" in a) == ("crash" in b) and ("error" in a.split("(")[0]) == ("error" in b.split("(")[0])


def _smaller(book: dict, cases: list[dict], records: dict | None):
    """Every one-step simplification, the ones that drop the most first."""
    for edit in _book_edits(book):
        changed = copy.deepcopy(book)
        if edit(changed) is not False:
            yield changed, cases, records
    for edit in _case_edits(cases):
        changed = copy.deepcopy(cases)
        if edit(changed) is not False:
            yield book, changed, records
    if records:
        yield book, cases, None


def _drop(container, key):
    def edit(data):
        target = _get(data, container)
        if isinstance(target, list):
            del target[key]
        else:
            target.pop(key)
    return edit


def _set(container, key, value):
    def edit(data):
        target = _get(data, container)
        if target[key] == value:
            return False
        target[key] = value
    return edit


def _get(data, path):
    for key in path:
        data = data[key]
    return data


def _book_edits(book: dict):
    criteria = book.get("criterion", [])
    if len(criteria) > 1:
        for i in range(len(criteria)):
            yield _drop(("criterion",), i)
    for key in ("gate", "scorer", "category", "let", "department_fields", "as_of"):
        if key in book:
            yield _drop((), key)
    for name in book.get("let", {}):
        yield _drop(("let",), name)
    for ci, criterion in enumerate(criteria):
        rules = criterion.get("rule", [])
        if len(rules) > 1:
            for ri in range(len(rules)):
                yield _drop(("criterion", ci, "rule"), ri)
        for key in ("max", "min", "base", "otherwise", "hit", "multiply", "category", "rubric"):
            if key in criterion:
                yield _drop(("criterion", ci), key)
        for ri, rule in enumerate(rules):
            path = ("criterion", ci, "rule", ri)
            when = rule.get("when")
            if when is not None:
                parts = _conjuncts(when)
                if len(parts) > 1:
                    for k in range(len(parts)):
                        yield _set(path, "when", " and ".join(p for j, p in enumerate(parts) if j != k))
                yield _drop(path, "when")
            for key in ("once",):
                if key in rule:
                    yield _drop(path, key)
            for name in rule.get("bind", {}):
                yield _drop(path + ("bind",), name)
            yield _set(path, "points", 1)
            yield _set(path, "text", "t")
        if "rate" in criterion:
            parts = _conjuncts(criterion["rate"]["hit"])
            if len(parts) > 1:
                for k in range(len(parts)):
                    yield _set(("criterion", ci, "rate"), "hit", " and ".join(p for j, p in enumerate(parts) if j != k))
    for ri, rubric in enumerate(book.get("rubric", [])):
        for key in ("min", "max"):
            if key in rubric:
                yield _drop(("rubric", ri), key)
    for key in ("base", "min", "max"):
        if key in book.get("department", {}):
            yield _drop(("department",), key)
    if "ranking" in book:
        yield _drop((), "ranking")
    if book.get("grade"):
        yield _drop((), "grade")
    if book.get("params"):
        for name in book["params"]:
            yield _drop(("params",), name)


def _case_edits(cases: list[dict]):
    if len(cases) > 1:
        for i in range(len(cases)):
            yield _drop((), i)
    for ci, case in enumerate(cases):
        if len(case["handlers"]) > 1:
            for hi in range(len(case["handlers"])):
                yield _drop((ci, "handlers"), hi)
        for ei in range(len(case["events"])):
            yield _drop((ci, "events"), ei)
        for ei, event in enumerate(case["events"]):
            if "w" in event:
                yield _drop((ci, "events", ei), "w")
        for key in ("key", "urgent"):
            if key in case:
                yield _drop((ci,), key)


def _conjuncts(source: str) -> list[str]:
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return [source]
    if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And):
        return [ast.unparse(value) for value in tree.values]
    return [source]
