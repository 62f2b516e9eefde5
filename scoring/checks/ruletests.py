"""`scoring rules test`: fixtures that say what a rulebook must produce, and rule coverage.

Beside a rulebook `X.toml`, the directory `X.tests/` holds fixture files (`*.toml`). Each
names a small case file (relative to itself) and states expectations about the ledger the
rulebook makes of it: department totals, grades, ranks and lines, case totals and lines.

    [fixture]
    title = "按时答复与迟复"            # shown in the report (default: the file name)
    cases = "late-reply.jsonl"           # case histories, relative to this file
    departments = "departments.jsonl"    # optional: department records, passed to the run
    period = "2020-Q2"                   # a rulebook assessed per quarter or month: the period scored

    [[department]]                       # every key optional but name
    name = "甲局"
    total = "95.5"                       # TOML number or text, compared exactly with the ledger's number
    grade = "A"                          # "none": in no band
    rank = 1                             # "none": not ranked (fewer cases than the ranking needs)
    lines = ["- base 93.5", "X1 X1 -1 c2/e5"]   # the department's lines, exactly, in order

    [[case]]                             # one case of one handler
    id = "c1"
    department = "甲局"                   # may be left out when one department handles the case
    total = 95
    lines = ["A1 A1 5 e2", "A2 A2-met 5 e3", "A3 otherwise 0"]

A line in compact form is "<criterion or -> <rule, or the kind when the rule is null>
<points as the ledger prints them> <evidence joined by commas, left out when empty>".

Every fixture is scored in this process with the rulebook compiled once; a fixture whose
case file has problems fails with them, the other fixtures still run. Problems in the
rulebooks or the fixture files themselves (unknown keys, a missing case file) stop the
command before anything runs (InputError, exit 2), every one listed with file and line.

Coverage: `coverage_paths` lists what a rulebook can do (each rule, each item's
"otherwise", caps and floors, rates, grade bands, clamps), `reached_paths` what a ledger
shows it did; a rulebook's coverage is what its fixtures reached, together, over the paths.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr

from scoring.base.errors import InputError, Problem, ScoringError, closest
from scoring.base.files import read_file
from scoring.base.i18n import _
from scoring.base.tomlmodel import Locator, parse_toml, problems_in, read_model
from scoring.engine.compiler import CompiledRulebook, load_compiled
from scoring.engine.session import Session, cut_to_period
from scoring.inputs.case_file import load_cases
from scoring.inputs.records import load_departments
from scoring.lang import values as V
from scoring.lang.builtins import TIERS_PICKED
from scoring.ledger.document import plain, printed
from scoring.ledger.shapes import FixtureFailure, LineDiffEntry
from scoring.rulebook.load import is_tier_table
from scoring.rulebook.periods import period_for

TESTS_SUFFIX = ".tests"


# ---------------------------------------------------------------- fixture files

def _number_or_text(value: Any) -> Any:
    """A total as written: a TOML number, or a text holding a decimal number."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise ValueError(f"must be a number or a text holding a number, not {type(value).__name__}")
    try:
        number = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f'"{value}" is not a number') from None
    if not number.is_finite():
        raise ValueError(f'"{value}" is not a finite number')
    return value


Total = Annotated[int | Decimal | str, BeforeValidator(_number_or_text)]


def _rank(value: Any) -> Any:
    if value == NONE or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f'must be a whole number or "{NONE}" (not ranked), not {value!r}')


Rank = Annotated[int | str, BeforeValidator(_rank)]
Name = Annotated[StrictStr, Field(min_length=1)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NONE = "none"  # what a fixture writes for an expected null (left out: not checked)


class FixtureInfo(_Spec):
    title: StrictStr | None = None
    cases: Name  # case histories, relative to the fixture file
    departments: Name | None = None  # department records, relative to the fixture file
    period: StrictStr | None = None  # the quarter or month scored (2020-Q2, 2020-05), for a rulebook assessed per period


class DepartmentExpectation(_Spec):
    name: Name
    total: Total | None = None
    grade: StrictStr | None = None  # a band, or NONE: in no band
    rank: Rank | None = None  # or NONE: not ranked
    lines: list[StrictStr] | None = None
    items: dict[StrictStr, Total] | None = None  # an item's points as the ledger prints them (indicators too)
    indicator_lines: list[StrictStr] | None = None  # the lines of the items outside the total


class CaseExpectation(_Spec):
    id: Name
    department: Name | None = None
    total: Total | None = None
    lines: list[StrictStr] | None = None


class FixtureSpec(_Spec):
    fixture: FixtureInfo
    department: list[DepartmentExpectation] = []
    case: list[CaseExpectation] = []


@dataclass(frozen=True)
class Fixture:
    path: Path
    spec: FixtureSpec
    title: str
    cases: Path
    departments: Path | None


def load_fixture(path: str | Path) -> Fixture:
    """A fixture file, checked: its keys, its expectations, and that the files it names exist."""
    path = Path(path)
    source = str(path)
    toml = parse_toml(read_file(path, "fixture"), source, "fixture")
    locator = toml.locator
    spec = read_model(FixtureSpec, toml, "fixture")
    problems: list[Problem] = []
    if not spec.department and not spec.case:
        problems.append(locator.problem(("fixture",), "the fixture expects nothing: add [[department]] or [[case]] expectations"))
    seen: dict[Any, int] = {}
    for index, expectation in enumerate(spec.department):
        if expectation.name in seen:
            problems.append(locator.problem(("department", index, "name"),
                                            f'department "{expectation.name}" is expected twice '
                                            f'(also department[{seen[expectation.name]}])'))
        seen.setdefault(expectation.name, index)
    seen = {}
    for index, expectation in enumerate(spec.case):
        key = (expectation.id, expectation.department)
        if key in seen:
            problems.append(locator.problem(("case", index, "id"), f'case "{expectation.id}"'
                                            + (f" of {expectation.department}" if expectation.department else "")
                                            + f" is expected twice (also case[{seen[key]}])"))
        seen.setdefault(key, index)
    cases = _named_file(path, spec.fixture.cases, ("fixture", "cases"), "case file", locator, problems)
    departments = None
    if spec.fixture.departments is not None:
        departments = _named_file(path, spec.fixture.departments, ("fixture", "departments"),
                                  "department records file", locator, problems)
    if problems:
        raise problems_in(source, "fixture", problems)
    return Fixture(path, spec, spec.fixture.title or path.stem, cases, departments)


def _named_file(fixture: Path, name: str, key: tuple, what: str, locator: Locator, problems: list[Problem]) -> Path:
    target = fixture.parent / name
    if not target.is_file():
        near = sorted(p.name for p in target.parent.iterdir() if p.is_file()) if target.parent.is_dir() else []
        problems.append(locator.problem(key, f'no {what} "{name}" (looked for {target}){closest(Path(name).name, near)}'))
    return target


# ---------------------------------------------------------------- finding rulebooks and fixtures

@dataclass
class Suite:
    """One rulebook, compiled, and its fixtures (none when it has no X.tests directory)."""

    rulebook: Path
    compiled: CompiledRulebook
    tests_dir: Path
    fixtures: list[Fixture]

    @property
    def has_tests_dir(self) -> bool:
        return self.tests_dir.is_dir()


def rulebooks_in(target: str | Path) -> list[Path]:
    """The rulebooks a DIR names: its *.toml files (not those in subdirectories), or the one file given."""
    path = Path(target)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError([Problem(str(target), None, "", "no such rulebook or directory")])
    books = sorted(p for p in path.glob("*.toml") if p.is_file())
    if not books:
        raise InputError([Problem(str(target), None, "", "no rulebooks (*.toml files) in this directory")])
    return books


def tests_dir_of(rulebook: Path) -> Path:
    return rulebook.with_name(rulebook.stem + TESTS_SUFFIX)


def load_suites(target: str | Path) -> list[Suite]:
    """Every rulebook compiled and every fixture checked; all problems together, before anything runs."""
    problems: list[Problem] = []
    suites = []
    for rulebook in rulebooks_in(target):
        try:
            compiled = load_compiled(rulebook)
        except InputError as exc:
            problems.extend(exc.problems)
            compiled = None
        tests_dir = tests_dir_of(rulebook)
        fixtures = []
        if tests_dir.is_dir():
            for path in sorted(p for p in tests_dir.glob("*.toml") if p.is_file()):
                try:
                    fixtures.append(load_fixture(path))
                except InputError as exc:
                    problems.extend(exc.problems)
        if compiled is not None:
            suites.append(Suite(rulebook, compiled, tests_dir, fixtures))
    if problems:
        raise InputError(problems, _("{n} problem(s) in the rulebooks and fixtures; no fixture was run").format(n=len(problems)))
    return suites


# ---------------------------------------------------------------- coverage

class CoveragePath(str):
    """A path's stable id ("rule:A4-late"), which is the string itself, with a readable description."""

    description: str

    def __new__(cls, path_id: str, description: str = ""):
        made = super().__new__(cls, path_id)
        made.description = description
        return made


def coverage_paths(compiled: CompiledRulebook) -> list[CoveragePath]:
    """What the rulebook can do, in rulebook order; each entry is reached when a ledger shows it.

    - rule:<rule id>            the rule fires (a line with that rule)
    - otherwise:<criterion>     no rule of the item fires (a line of kind "otherwise"), for items
                                with an `otherwise` sentence
    - cap:<criterion> / floor:<criterion>   the item's max / min cuts its sum
    - rate:<criterion>          the rate is computed (a rate line with evidence or points)
    - rate-empty:<criterion>    no eligible case (the rate's `empty` sentence), if it has one
    - multiplier:<criterion>    a case's points of the item are multiplied (factor other than 1)
    - gate:<id>                 the gate or veto holds for some department
    - grade:<name>              some department gets the band
    - tier:<param>[<i>]         tier() picks row i of a tier table the rules read (counted while
                                the fixture is scored, as the ledger does not show it)
    - clamp:case / clamp:department   a case / department total is brought within its limits,
                                if a rubric / the department has a min or max
    """
    spec = compiled.book.spec
    paths: list[CoveragePath] = []
    for criterion in compiled.criteria:
        item = f"{criterion.id} {criterion.title}"
        for rule in criterion.rules + criterion.department_rules:
            paths.append(CoveragePath(f"rule:{rule.id}", f"{item}: rule {rule.id} fires"))
        if criterion.multiply is not None:
            paths.append(CoveragePath(f"multiplier:{criterion.id}", f"{item}: a case's points multiplied"))
        if criterion.rate is None and criterion.otherwise is not None:
            paths.append(CoveragePath(f"otherwise:{criterion.id}", f"{item}: no rule fires (the otherwise sentence)"))
        if criterion.max is not None:
            paths.append(CoveragePath(f"cap:{criterion.id}",
                                      f"{item}: the sum is cut to its max {V.format_value(criterion.max)}"))
        if criterion.min is not None:
            paths.append(CoveragePath(f"floor:{criterion.id}",
                                      f"{item}: the sum is raised to its min {V.format_value(criterion.min)}"))
        if criterion.rate is not None:
            paths.append(CoveragePath(f"rate:{criterion.id}", f"{item}: the rate over eligible cases"))
            if criterion.rate.empty is not None:
                paths.append(CoveragePath(f"rate-empty:{criterion.id}", f"{item}: no eligible case (the empty sentence)"))
    for gate in compiled.gates:
        paths.append(CoveragePath(f"gate:{gate.id}", f"gate {gate.id} {gate.title} holds"))
    for grade in spec.grade:
        paths.append(CoveragePath(f"grade:{grade.name}", f"a department graded {grade.name} (from {grade.min})"))
    for name, table in _tier_tables(compiled).items():
        for index, row in enumerate(table):
            bounds = " ".join(f"{key} {V.format_value(row[key])}" for key in ("from", "below") if key in row)
            paths.append(CoveragePath(f"tier:{name}[{index}]", f"tier {name}[{index}] ({bounds}) picked"))
    if any(r.min is not None or r.max is not None for r in compiled.rubrics):
        limits = ", ".join(f"{r.id} {_limits(r.min, r.max)}" for r in compiled.rubrics if r.min is not None or r.max is not None)
        paths.append(CoveragePath("clamp:case", f"a case total brought within its rubric's limits ({limits})"))
    department = spec.department
    if department.min is not None or department.max is not None:
        paths.append(CoveragePath("clamp:department",
                                  f"a department total brought within {_limits(department.min, department.max)}"))
    return paths


def _tier_tables(compiled: CompiledRulebook) -> dict[str, list]:
    """The tier tables among the params that some expression reads, as rules see them."""
    return {name: V.from_data(value) for name, value in compiled.book.spec.params.items()
            if is_tier_table(value) and name in compiled.params_used}


def reached_paths(compiled: CompiledRulebook, ledger: dict) -> set[str]:
    """The coverage paths (ids) one ledger shows; ids of paths the rulebook does not list may be included."""
    rates = {c.id: c.rate for c in compiled.criteria if c.rate is not None}
    reached: set[str] = set()

    def reach(line: dict, level: str, department: str) -> None:
        kind, criterion = line["kind"], line["criterion"]
        if line["rule"] is not None:
            reached.add(f"rule:{line['rule']}")
        if kind == "otherwise":
            reached.add(f"otherwise:{criterion}")
        elif kind in ("cap", "floor", "multiplier"):
            reached.add(f"{kind}:{criterion}")
        elif kind == "gate":
            reached.add(f"gate:{line['rule']}")
        elif kind == "clamp":
            reached.add(f"clamp:{level}")
        elif kind == "rate" and criterion in rates:
            rate = rates[criterion]
            # the empty sentence sees the department as a record, as in the roll-up (its name is enough here)
            empty_text = (rate.empty({"department": V.Record("department", {"name": department}),
                                      "category": line.get("category")})
                          if rate.empty is not None else "")
            empty = not line["evidence"] and line["points"] == 0 and line["text"] == empty_text
            reached.add(f"rate-empty:{criterion}" if empty else f"rate:{criterion}")

    for entry in ledger["departments"]:
        if entry["grade"] is not None:
            reached.add(f"grade:{entry['grade']}")
        for line in entry["lines"] + entry.get("indicator_lines", []):
            reach(line, "department", entry["department"])
        for case in entry["cases"]:
            for line in case["lines"]:
                reach(line, "case", entry["department"])
    return reached


def _limits(low, high) -> str:
    return (f"[{'—' if low is None else V.format_value(V.from_data(low))}, "
            f"{'—' if high is None else V.format_value(V.from_data(high))}]")


# ---------------------------------------------------------------- running fixtures

def compact(line: dict) -> str:
    """A ledger line as fixtures write it: "A2 A2-met 5 e3", "A2 cap -2.5", "- base 93.5", "X1 X1 -1 c2/e5"."""
    parts = [line["criterion"] or "-", line["rule"] or line["kind"], printed(line["points"])]
    if line["evidence"]:
        parts.append(",".join(line["evidence"]))
    return " ".join(parts)


def same_number(expected, actual) -> bool:
    """Exact: the expected number equals the ledger's number as printed (no tolerance)."""
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    expected_number = Decimal(expected.strip()) if isinstance(expected, str) else Decimal(expected)
    return expected_number == Decimal(printed(actual))


@dataclass
class Failure:
    # total, grade, rank, lines, items, indicator_lines; department / case (not in the run); run (not scored)
    field: str
    department: str | None = None
    case: str | None = None
    expected: Any = None
    actual: Any = None
    message: str = ""
    diff: list[LineDiffEntry] | None = None  # fields "lines" and "indicator_lines" only

    def document(self) -> FixtureFailure:
        return {"department": self.department, "case": self.case, "field": self.field,
                "expected": _json_value(self.expected), "actual": _json_value(self.actual),
                "message": self.message, "diff": self.diff}


@dataclass
class FixtureResult:
    fixture: Fixture
    failures: list[Failure]
    reached: set[str] = field(default_factory=set)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class SuiteResult:
    suite: Suite
    fixtures: list[FixtureResult]
    paths: list[CoveragePath]
    reached: set[str]

    @property
    def covered(self) -> list[CoveragePath]:
        return [p for p in self.paths if p in self.reached]

    @property
    def missing(self) -> list[CoveragePath]:
        return [p for p in self.paths if p not in self.reached]

    @property
    def percent(self) -> Decimal:
        """Covered paths over all paths, in percent, rounded half up to 2 decimals."""
        if not self.paths:
            return Decimal(100)
        return V.round_half_up(Fraction(100 * len(self.covered), len(self.paths)), 2)


@dataclass
class RuleTestReport:
    suites: list[SuiteResult]

    @property
    def failed(self) -> int:
        return sum(not f.passed for s in self.suites for f in s.fixtures)

    def below(self, min_coverage) -> list[SuiteResult]:
        return [s for s in self.suites if s.percent < Decimal(str(min_coverage))]

    def exit_code(self, min_coverage=0) -> int:
        return 1 if self.failed or self.below(min_coverage) else 0


def run_tests(target: str | Path) -> RuleTestReport:
    """Load every rulebook and fixture under target (InputError if any is malformed), then run them."""
    return RuleTestReport([run_suite(suite) for suite in load_suites(target)])


def run_suite(suite: Suite) -> SuiteResult:
    with Session(suite.compiled, jobs=0) as session:  # in this process: TIERS_PICKED sees the tiers picked
        results = [run_fixture(session, fixture) for fixture in suite.fixtures]
    reached = set().union(*(r.reached for r in results)) if results else set()
    return SuiteResult(suite, results, coverage_paths(suite.compiled), reached)


def score_fixture(session: Session, fixture: Fixture) -> dict:
    """The ledger of the fixture's case file (and department records, when it names them), scored in
    this process (so that the tier rows picked are seen)."""
    compiled = session.compiled
    declared = compiled.departments
    records = (None if fixture.departments is None
               else load_departments(fixture.departments, compiled.book.spec.department_fields, declared))
    case_file = load_cases(fixture.cases, departments=declared, domain=compiled.domain)
    period = period_for(compiled.book.spec.rulebook, fixture.spec.fixture.period)
    if period is None:
        return session.run(case_file, records).ledger
    if records is not None:  # the records name departments of the whole file
        records.check_departments(case_file.cases)
    case_file, records, in_period = cut_to_period(period, case_file, records)
    return session.run(case_file, records, period=in_period).ledger


def run_fixture(session: Session, fixture: Fixture) -> FixtureResult:
    compiled = session.compiled
    picked: list = []
    token = TIERS_PICKED.set(picked)
    try:
        ledger = score_fixture(session, fixture)
    except ScoringError as exc:
        return FixtureResult(fixture, [Failure("run", message=f"the fixture could not be scored: {exc}")])
    finally:
        TIERS_PICKED.reset(token)
    tiers = {f"tier:{name}[{index}]" for name, table in _tier_tables(compiled).items()
             for found, index in picked if found == table}
    return FixtureResult(fixture, check(fixture.spec, ledger), reached_paths(compiled, ledger) | tiers)


def check(spec: FixtureSpec, ledger: dict) -> list[Failure]:
    """Every way the ledger differs from the fixture's expectations."""
    failures: list[Failure] = []
    departments = {d["department"]: d for d in ledger["departments"]}
    names = list(departments)
    for expected in spec.department:
        entry = departments.get(expected.name)
        if entry is None:
            failures.append(Failure("department", expected.name, expected=expected.name,
                                    message=f'no department "{expected.name}" in the run{closest(expected.name, names)}; '
                                            f"the run has: {', '.join(names)}"))
            continue
        name = expected.name
        if expected.total is not None and not same_number(expected.total, entry["total"]):
            failures.append(Failure("total", name, expected=expected.total, actual=entry["total"]))
        for field_name in ("grade", "rank"):
            wanted = getattr(expected, field_name)
            if wanted is not None and (None if wanted == NONE else wanted) != entry[field_name]:
                failures.append(Failure(field_name, name, expected=wanted, actual=entry[field_name]))
        if expected.lines is not None:
            failures.extend(_lines_failure(expected.lines, entry["lines"], name, None))
        if expected.indicator_lines is not None:
            failures.extend(_lines_failure(expected.indicator_lines, entry.get("indicator_lines", []), name, None,
                                           "indicator_lines"))
        points = {c["criterion"]: c["points"] for c in entry["criteria"] if "category" not in c}
        for item, wanted in (expected.items or {}).items():
            if item not in points:
                failures.append(Failure("items", name, expected=item, message=(
                    f'no item "{item}" in the department\'s criteria{closest(item, list(points))}')))
            elif not same_number(wanted, points[item]):
                failures.append(Failure("items", name, expected=wanted, actual=points[item],
                                        message=f'item "{item}": expected {wanted}, actual {printed(points[item])}'))
    for expected in spec.case:
        entry, department, problem = _find_case(expected, departments)
        if problem is not None:
            failures.append(problem)
            continue
        if expected.total is not None and not same_number(expected.total, entry["total"]):
            failures.append(Failure("total", department, expected.id, expected=expected.total, actual=entry["total"]))
        if expected.lines is not None:
            failures.extend(_lines_failure(expected.lines, entry["lines"], department, expected.id))
    return failures


def _find_case(expected: CaseExpectation, departments: dict) -> tuple[dict | None, str | None, Failure | None]:
    """The case entry of the expectation's handler, or the failure saying why there is none."""
    case_id = expected.id
    handlers = [(name, c) for name, d in departments.items() for c in d["cases"] if c["case"] == case_id]
    all_cases = sorted({c["case"] for d in departments.values() for c in d["cases"]})
    if expected.department is None:
        if len(handlers) == 1:
            return handlers[0][1], handlers[0][0], None
        if not handlers:
            return None, None, Failure("case", None, case_id, expected=case_id,
                                       message=f'no case "{case_id}" in the run{closest(case_id, all_cases)}')
        return None, None, Failure("department", None, case_id, message=(
            f'case "{case_id}" has {len(handlers)} handlers ({", ".join(n for n, _ in handlers)}); '
            "say which with department = \"...\""))
    name = expected.department
    if name not in departments:
        names = list(departments)
        return None, name, Failure("department", name, case_id, expected=name,
                                   message=f'no department "{name}" in the run{closest(name, names)}; '
                                           f'the run has: {", ".join(names)}')
    for handler, entry in handlers:
        if handler == name:
            return entry, name, None
    own = [c["case"] for c in departments[name]["cases"]]
    elsewhere = f"; it is handled by {', '.join(n for n, _ in handlers)}" if handlers else ""
    return None, name, Failure("case", name, case_id, expected=case_id,
                               message=f'{name} has no case "{case_id}"{closest(case_id, own)}{elsewhere}')


def _lines_failure(expected: list[str], actual: list[dict], department: str | None, case: str | None,
                   what: str = "lines") -> list[Failure]:
    got = [compact(line) for line in actual]
    if got == list(expected):
        return []
    return [Failure(what, department, case, expected=list(expected), actual=got, diff=line_diff(expected, actual))]


def line_diff(expected: list[str], actual: list[dict]) -> list[LineDiffEntry]:
    """Expected against actual lines in compact form, "-" expected only, "+" actual only; actual lines carry their text."""
    got = [compact(line) for line in actual]
    out = []
    matcher = difflib.SequenceMatcher(a=list(expected), b=got, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [{"op": " ", "line": got[j], "text": actual[j]["text"]} for j in range(j1, j2)]
            continue
        out += [{"op": "-", "line": expected[i], "text": None} for i in range(i1, i2)]
        out += [{"op": "+", "line": got[j], "text": actual[j]["text"]} for j in range(j1, j2)]
    return out


def _json_value(value):
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, list):
        return list(value)
    return value
