"""Every JSON document the tool writes has a shape (scoring.ledger.shapes) and a published JSON
Schema made from it (schemas/<name>.schema.json, by scoring.ledger.schemas).

The committed schemas are the generated ones; real outputs of each kind validate against them:
the sample year, and the combined rulebook's fixtures (categories, scorers, peer groups,
department records), through the command line in this process; every key a shape declares
shows up in some output, so the shapes say what is written and no more; and a document with an
undeclared key, a missing key or a value of the wrong kind fails, so the check can fail.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import tomllib
import types
from typing import Union, get_args, get_origin, get_type_hints, is_typeddict

import jsonschema
import pytest
from casekit import ROOT, SAMPLE, without_steps
from click.testing import CliRunner

from scoring.cli import main
from scoring.engine import session
from scoring.ledger import shapes
from scoring.ledger.schemas import DOCUMENTS, DRAFT, document_schemas, to_text

SCHEMAS = ROOT / "schemas"
RULES = ROOT / "rules" / "proposal-handling.toml"
WAIVER = ROOT / "rules" / "overlays" / "phone-waiver.toml"
DEPARTMENTS = ROOT / "rules" / "overlays" / "departments-2020.toml"
COMBINED = ROOT / "rules" / "combined-2020.toml"
BASE = ("--rules", RULES, "--cases", SAMPLE)
BAD_CASE = ('{"id": "2020-X0001", "kind": "suggestion", "handlers": [{"department": "甲局", "role": "lead"}], '
            '"events": [{"id": "e1", "type": "signd", "date": "2020-03-10", "department": "甲局"}]}\n')


def run(*argv, code: int = 0):
    result = CliRunner().invoke(main, [str(a) for a in argv], catch_exceptions=False)
    assert result.exit_code == code, f"scoring {' '.join(map(str, argv))}: exit {result.exit_code}\n{result.stderr}"
    return result


def _run_id(result) -> str:
    return re.search(r"recorded run ([0-9a-f]+)", result.stderr)[1]


def combined_fixtures():
    """(fixture name, --cases and --departments) of each fixture of the combined rulebook."""
    for fixture in sorted((ROOT / "rules" / "combined-2020.tests").glob("*.toml")):
        spec = tomllib.loads(fixture.read_text(encoding="utf-8"))["fixture"]
        options = ["--cases", fixture.parent / spec["cases"]]
        if "departments" in spec:
            options += ["--departments", fixture.parent / spec["departments"]]
        yield fixture.stem, options


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, dict[str, object]]:
    """Schema name -> {what was run: the document it wrote}."""
    with pytest.MonkeyPatch.context() as patch:
        # scored in this process: the same documents, without a worker pool for each scoring
        # (a bulletin scores three times per department)
        patch.setattr(session, "default_jobs", lambda: 0)
        return _outputs(tmp_path_factory.mktemp("outputs"))


def _outputs(tmp) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {name: {} for name in DOCUMENTS}

    def document(name: str, label: str, *argv, code: int = 0):
        found[name][label] = json.loads(run(*argv, code=code).stdout)
        return found[name][label]

    def saved(name: str, content) -> str:
        (tmp / name).write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return str(tmp / name)

    # the sample year as published (recorded, for the audit below), and changed: under the phone
    # waiver with an invalid case skipped (derived_from and skipped, in each document that has them)
    store = ("--store", tmp / "runs.db")
    published = run("score", *BASE, "--format", "json", "--record", *store)
    found["ledger"]["sample"] = ledger = json.loads(published.stdout)
    (tmp / "bad.jsonl").write_text(SAMPLE.read_text(encoding="utf-8") + BAD_CASE, encoding="utf-8")
    changed = ("--rules", RULES, "--overlay", WAIVER, "--cases", tmp / "bad.jsonl", "--skip-invalid")
    changed_ledger = document("ledger", "sample changed", "score", *changed, "--format", "json")
    document("explain", "sample changed, one case", "explain", *changed, "--department", "市交通运输局", "--case", "2020-J0002",
             "--format", "json")
    check = document("self-check", "sample", "self-check", *BASE, "--department", "市民政局", "--as-of", "2020-06-05",
                     "--format", "json")
    document("self-check", "sample changed, cases not yet assigned", "self-check", *changed, "--department", "市教育局",
             "--as-of", "2020-04-15", "--format", "json")
    document("bulletin", "sample changed", "bulletin", *changed, "--month", "2020-03", "--format", "json")

    # exclusions and appeals: a department taken out of a case, an appeal rejected (exclusions, input.exclusions_sha256)
    (tmp / "decisions.jsonl").write_text(
        '{"case": "2020-J0002", "department": "市交通运输局", "kind": "exclusion", "decision": "approved", '
        '"reason": "不属于本单位职责", "decided_by": "市政府督查室", "decided_on": "2020-07-01"}\n'
        '{"case": "2020-J0005", "kind": "appeal", "decision": "rejected", "reason": "答复内容空泛", '
        '"decided_by": "市政府督查室", "decided_on": "2020-08-03"}\n', encoding="utf-8")
    decided = (*BASE, "--exclusions", tmp / "decisions.jsonl")
    document("ledger", "exclusions and appeals", "score", *decided, "--format", "json")
    document("explain", "exclusions and appeals", "explain", *decided, "--department", "市交通运输局", "--format", "json")
    document("self-check", "exclusions and appeals", "self-check", *decided, "--department", "市交通运输局",
             "--as-of", "2020-07-15", "--format", "json")
    document("bulletin", "exclusions and appeals", "bulletin", *decided, "--month", "2020-07", "--format", "json")

    # department names: two cases of 市住房建设局 written 市住建局, an alias the departments overlay
    # declares (input.aliases), and two names that look like one department without it (input.similar_departments)
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    written = [line.replace("市住房建设局", "市住建局") if '"department": "市住房建设局", "role": "lead"' in line else line
               for line in lines[:40]]
    (tmp / "aliased.jsonl").write_text("\n".join(written + lines[40:]), encoding="utf-8")
    for label, declared in (("an alias", ("--overlay", DEPARTMENTS)), ("similar departments", ())):
        named = ("--rules", RULES, *declared, "--cases", tmp / "aliased.jsonl")
        document("ledger", label, "score", *named, "--format", "json")
        document("explain", label, "explain", *named, "--department", "市住房建设局", "--format", "json")

    # a rulebook that reads as_of and closes before the file's last events (input.as_of, input.after_closing)
    closing = RULES.read_text(encoding="utf-8")
    closing = closing.replace('version = "1.0.0"\n', 'version = "1.0.0"\nclosing_date = 2021-01-31\n', 1)
    urged = 'text = "{u.date}因{case.id}被督办/催办'
    closing = closing.replace(urged + '"', urged + '（截至{as_of}）"', 1)
    assert "as_of" in closing and "closing_date" in closing
    (tmp / "closing.toml").write_text(closing, encoding="utf-8")
    document("ledger", "closing date and as_of", "score", "--rules", tmp / "closing.toml", "--cases", SAMPLE, "--format", "json")
    document("explain", "closing date and as_of", "explain", "--rules", tmp / "closing.toml", "--cases", SAMPLE,
             "--department", "市民政局", "--format", "json")

    # a rulebook assessed per quarter, one quarter of the year's file (input.period)
    (tmp / "quarter.toml").write_text(closing.replace('version = "1.0.0"\n', 'version = "1.0.0"\nperiod = "quarter"\n', 1),
                                      encoding="utf-8")
    document("ledger", "a quarter", "score", "--rules", tmp / "quarter.toml", "--cases", SAMPLE, "--period", "2020-Q3",
             "--format", "json")
    document("explain", "a quarter", "explain", "--rules", tmp / "quarter.toml", "--cases", SAMPLE, "--period",
             "2020-Q3", "--department", "市教育局", "--format", "json")
    (tmp / "combined.toml").write_text((tmp / "quarter.toml").read_text(encoding="utf-8")
                                       + '\n[combine]\nmethod = "expression"\nexpression = "max(totals)"\n', encoding="utf-8")
    document("combined", "the quarters of 2020", "combine", "--rules", tmp / "combined.toml", "--cases", SAMPLE,
             "--year", "2020", "--set", "sign_points=5", "--record", "--store", tmp / "runs.db", "--format", "json")

    # the combined rulebook's fixtures: categories, scorers, peer groups, department records
    for fixture, options in combined_fixtures():
        scored = document("ledger", fixture, "score", "--rules", COMBINED, *options, "--format", "json")
        department = scored["departments"][0]["department"]
        document("explain", fixture, "explain", "--rules", COMBINED, *options, "--department", department, "--format", "json")
        document("self-check", fixture, "self-check", "--rules", COMBINED, *options, "--department", department,
                 "--as-of", "2020-06-15", "--format", "json")
        document("bulletin", fixture, "bulletin", "--rules", COMBINED, *options, "--month", "2020-06", "--format", "json")
    # indicators beside an empty total, ranked by one of them (in_total, indicator_lines, rank_by)
    indicators = ("--rules", ROOT / "rules/indicators-2021.toml", "--cases",
                  ROOT / "rules/indicators-2021.tests/rates-ranking.jsonl")
    document("ledger", "indicators", "score", *indicators, "--format", "json")
    document("explain", "indicators", "explain", *indicators, "--department", "市交通委", "--format", "json")
    document("bulletin", "indicators", "bulletin", *indicators, "--month", "2021-05", "--format", "json")
    # an item with a due date but no step (untracked): every shipped rulebook declares its steps
    (tmp / "untracked.toml").write_text(without_steps(COMBINED.read_text(encoding="utf-8"), "L2"), encoding="utf-8")
    fixture, options = next(iter(combined_fixtures()))
    document("bulletin", "an item without its step", "bulletin", "--rules", tmp / "untracked.toml", *options,
             "--month", "2020-06", "--format", "json")

    # verification: a ledger not confirmed, a self-assessment confirmed
    claimed = copy.deepcopy(ledger)
    claimed["departments"][1]["total"] += 1
    next(line for c in claimed["departments"][1]["cases"] for line in c["lines"] if line["points"] == 2.5)["points"] = 5
    document("verify", "a ledger not confirmed", "verify", saved("claimed.json", claimed), *BASE, "--format", "json", code=1)
    document("verify", "a self-assessment confirmed", "verify", saved("self-check.json", check), *BASE, "--format", "json")

    # audit: two ledger files, replays of the recorded run, two runs, the run list, runs, exports
    document("diff", "two ledger files", "diff", saved("ledger.json", ledger), saved("changed.json", changed_ledger),
             "--format", "json")
    recorded = _run_id(published)
    document("replay", "reproduced", "replay", recorded, *store, "--format", "json")
    replayed = run("replay", recorded, "--overlay", WAIVER, "--record", *store, "--format", "json")
    found["replay"]["under an overlay"] = json.loads(replayed.stdout)
    document("diff", "two runs, with their rule changes", "diff", recorded, _run_id(replayed), *store, "--format", "json")
    fixture, options = next(combined_fixtures())
    with_records = _run_id(run("score", "--rules", COMBINED, *options, "--record", *store))
    with_decisions = _run_id(run("score", *decided, "--record", *store))
    found["runs"]["four runs"] = json.loads(run("runs", "list", *store, "--format", "json").stdout)
    for run_id, label in ((recorded, "a run"), (_run_id(replayed), "a replay"), (with_records, f"{fixture}, department records"),
                          (with_decisions, "exclusions and appeals")):
        document("run", label, "runs", "show", run_id, *store, "--format", "json")
        run("runs", "export", run_id, "--out", tmp / run_id, *store)
        found["run-export"][label] = json.loads((tmp / run_id / "run.json").read_text(encoding="utf-8"))

    # rule tests: the reference rulebook's fixtures below a coverage minimum (its case clamp cannot
    # fire), and a copy of the combined rulebook's with a fixture that fails
    document("rule-tests", "below a coverage minimum", "rules", "test", RULES, "--min-coverage", "100", "--format", "json",
             code=1)
    copied = tmp / "rules"
    copied.mkdir()
    shutil.copy(COMBINED, copied)
    shutil.copytree(ROOT / "rules" / "combined-2020.tests", copied / "combined-2020.tests")
    fixture_file = copied / "combined-2020.tests" / "categories-scorers.toml"
    text = fixture_file.read_text(encoding="utf-8")
    fixture_file.write_text(text.replace("total = 100", "total = 99", 1).replace('"L1 L1-f2f 20 e2"', '"L1 L1-f2f 10 e2"', 1),
                            encoding="utf-8")
    document("rule-tests", "a failing fixture", "rules", "test", copied, "--format", "json", code=1)
    return found


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.protocols.Validator]:
    """The committed schemas, as published."""
    return {name: jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")))
            for name in DOCUMENTS}


def problems(validator, document) -> list[str]:
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


# ---------------------------------------------------------------- the schemas themselves

def test_the_committed_schemas_are_the_generated_ones():
    generated = document_schemas()
    for name, schema in generated.items():
        path = SCHEMAS / f"{name}.schema.json"
        assert path.is_file() and path.read_text(encoding="utf-8") == to_text(schema), \
            f"{path.name} is not current: regenerate with `python -m scoring.ledger.schemas`"
    committed = {p.name for p in SCHEMAS.glob("*.schema.json")}
    assert committed == {f"{name}.schema.json" for name in generated} | {"case.schema.json"}, "a schema nobody generates"


def test_scoring_schema_prints_every_committed_schema():
    """`scoring schema --document NAME` names every schema (its --help lists them without loading them)."""
    from scoring.cli.commands import DOCUMENTS as LISTED
    assert LISTED == ("case", *DOCUMENTS)  # noqa: SIM300 - LISTED (the CLI's tuple) is what is tested, not a constant
    for name in LISTED:
        result = CliRunner().invoke(main, ["schema", "--document", name])
        assert result.exit_code == 0 and result.stdout == (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"), name


def test_the_module_rewrites_the_schemas(tmp_path):
    done = subprocess.run([sys.executable, "-m", "scoring.ledger.schemas", str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    for name in DOCUMENTS:
        assert (tmp_path / f"{name}.schema.json").read_bytes() == (SCHEMAS / f"{name}.schema.json").read_bytes()


def _objects(node):
    """Every sub-schema of a schema."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_each_schema_is_draft_2020_12_titled_and_closed(name, validators):
    schema = validators[name].schema
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT and schema["title"]
    nodes = list(_objects(schema))
    assert not any("$id" in node for node in nodes)
    # every object with declared keys allows no other key; only free-form tables (a --set value,
    # a step's event, an export's file list) have none declared
    declared = [node for node in nodes if "properties" in node]
    assert declared and all(node["additionalProperties"] is False for node in declared)


def test_format_ids_are_spelled_once():
    for literal, constant in ((shapes.LedgerFormat, shapes.LEDGER), (shapes.SelfCheckFormat, shapes.SELF_CHECK),
                              (shapes.BulletinFormat, shapes.BULLETIN), (shapes.DiffFormat, shapes.DIFF),
                              (shapes.VerifyFormat, shapes.VERIFY), (shapes.RuleTestsFormat, shapes.RULE_TESTS),
                              (shapes.CombinedFormat, shapes.COMBINED)):
        assert get_args(literal) == (constant,)
    formats = {name: schema["properties"]["format"]["const"] for name, schema in document_schemas().items()
               if "format" in schema.get("properties", {})}
    assert formats == {"ledger": shapes.LEDGER, "explain": shapes.LEDGER, "self-check": shapes.SELF_CHECK,
                       "bulletin": shapes.BULLETIN, "diff": shapes.DIFF, "replay": shapes.DIFF, "verify": shapes.VERIFY,
                       "rule-tests": shapes.RULE_TESTS, "combined": shapes.COMBINED}


def test_the_shapes_load_neither_pydantic_nor_the_engine():
    code = ("import sys, scoring.ledger.shapes, scoring.ledger.document, scoring.ledger.schemas; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'durable_rules_engine', 'durable')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------- real outputs

@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_real_outputs_validate(name, outputs, validators):
    assert outputs[name], f"no {name} output was checked"
    found = {label: problems(validators[name], document) for label, document in outputs[name].items()}
    assert not {label: found[label][:5] for label in found if found[label]}


def _keys_seen(hint, value, seen: dict[str, set]) -> None:
    """Record, per shape, the keys present in value (walked along the shape's type hints)."""
    if is_typeddict(hint):
        if isinstance(value, dict):
            seen.setdefault(hint.__name__, set()).update(value)
            hints = get_type_hints(hint)
            for key, item in value.items():
                _keys_seen(hints[key], item, seen)
        return
    origin, args = get_origin(hint), get_args(hint)
    if origin is list and isinstance(value, list):
        for item in value:
            _keys_seen(args[0], item, seen)
    elif origin is dict and isinstance(value, dict):
        for item in value.values():
            _keys_seen(args[1], item, seen)
    elif origin in (Union, types.UnionType):
        for arg in args:
            _keys_seen(arg, value, seen)


def _shapes_in(hint, found: dict[str, type]) -> dict[str, type]:
    """Every TypedDict a shape refers to, by name."""
    if is_typeddict(hint) and hint.__name__ not in found:
        found[hint.__name__] = hint
        for item in get_type_hints(hint).values():
            _shapes_in(item, found)
    for arg in get_args(hint):
        _shapes_in(arg, found)
    return found


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_declared_key_is_written_somewhere(name, outputs):
    shape = DOCUMENTS[name][0]
    seen: dict[str, set] = {}
    for document in outputs[name].values():
        _keys_seen(shape, document, seen)
    unseen = {typed: set(get_type_hints(typed_dict)) - seen.get(typed, set())
              for typed, typed_dict in _shapes_in(shape, {}).items()}
    assert not {typed: keys for typed, keys in unseen.items() if keys}


# which output to break, where to add an undeclared key, and where to put a value of the wrong kind
BREAKS = {
    "ledger": ("categories-scorers", ("departments", 0, "cases", 0, "lines", 0), ("departments", 0, "rank"), "1"),
    "explain": ("categories-scorers", ("department", "cases", 0, "lines", 0), ("department", "cases", 0, "total"), "72.5"),
    "self-check": ("sample", ("at_risk", 0), ("floor",), "73.65"),
    "bulletin": ("categories-scorers", ("departments", 0, "change"), ("departments", 0, "cases"), "5"),
    "diff": ("two runs, with their rule changes", ("rulebook_changes", 0), ("summary", "cases_changed"), 1.5),
    "replay": ("under an overlay", ("replay",), ("replay", "reproduced"), "yes"),
    "verify": ("a ledger not confirmed", ("differences", 0), ("confirmed",), "true"),
    "rule-tests": ("a failing fixture", ("rulebooks", 0, "coverage"), ("summary", "failed"), "0"),
    "runs": ("four runs", (0, "rulebook"), (0, "seq"), "1"),
    "run": ("a run", ("record", "input"), ("record", "options", "skip_invalid"), "false"),
    "run-export": ("a run", ("record", "rulebook", "base"), ("files",), ["ledger.json"]),
    "combined": ("the quarters of 2020", ("departments", 0, "periods", 0), ("departments", 0, "rank"), "1"),
}


def _at(document, path):
    for key in path:
        document = document[key]
    return document


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_an_undeclared_key_a_missing_key_or_a_wrong_kind_fails(name, outputs, validators):
    validator = validators[name]
    label, nested, typed, wrong = BREAKS[name]
    original = outputs[name][label]
    assert not problems(validator, original)

    broken = copy.deepcopy(original)
    _at(broken, nested)["undeclared"] = 1
    assert any("undeclared" in p for p in problems(validator, broken))

    broken = copy.deepcopy(original)
    *parent, key = typed
    _at(broken, parent)[key] = wrong
    assert problems(validator, broken)

    broken = copy.deepcopy(original)
    element = broken[0] if isinstance(broken, list) else broken
    element.pop(next(iter(element)))
    assert any("required" in p for p in problems(validator, broken))
