"""Department names: `市住建局` in two rows of a year that writes `市住房建设局` made a sixteenth department.

Declared ([departments] in the rulebook, or an overlay holding it: a departments file), an alias is
scored as its department and the ledger says so, and any other name is an error with the closest
names. Undeclared, names that look like one department are a warning, on stderr and in the ledger.
"""
import json

from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring
from openpyxl import load_workbook

DEPARTMENTS = ROOT / "rules" / "overlays" / "departments-2020.toml"
REGISTER = ROOT / "samples" / "register-2020.xlsx"
RULES = ("--rules", REFERENCE)


def written(tmp_path, name: str, cases: int = 2):
    """The sample with the first `cases` cases led by 市住房建设局 written `name` (its handler and events)."""
    lines, changed = [], 0
    for line in SAMPLE.read_text(encoding="utf-8").split("\n"):
        if changed < cases and '"department": "市住房建设局", "role": "lead"' in line:
            line, changed = line.replace("市住房建设局", name), changed + 1
        lines.append(line)
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def ledger(*argv) -> dict:
    run = scoring("score", *argv, "--format", "json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_without_a_declared_list_a_name_written_two_ways_is_a_warning_on_stderr_and_in_the_ledger(tmp_path):
    cases = written(tmp_path, "市住建局")
    run = scoring("score", *RULES, "--cases", cases, "--format", "json")
    assert run.returncode == 0, run.stderr
    assert run.stderr == (
        f"warning: {cases}: departments 市住建局 (2 case(s)) and 市住房建设局 (22 case(s)) may be one department (both "
        "read 市住建局 once abbreviated); they are scored apart. Declare the departments assessed, or 市住建局 as an alias "
        "of the other, in the rulebook's [departments] (or an overlay)\n")
    found = json.loads(run.stdout)
    assert found["input"]["similar_departments"] == [
        {"departments": ["市住建局", "市住房建设局"], "cases": [2, 22], "why": "both read 市住建局 once abbreviated"}]
    assert len(found["departments"]) == 16
    # the sample itself: no warning, and the key is absent (its ledger keeps its bytes)
    run = scoring("score", *RULES, "--cases", SAMPLE, "--format", "json")
    assert run.stderr == "" and "similar_departments" not in json.loads(run.stdout)["input"]


def test_a_declared_alias_is_scored_as_its_department_and_the_ledger_says_so(tmp_path):
    cases = written(tmp_path, "市住建局")
    aliased = ledger(*RULES, "--overlay", DEPARTMENTS, "--cases", cases)
    declared = ledger(*RULES, "--overlay", DEPARTMENTS, "--cases", SAMPLE)
    assert aliased["departments"] == declared["departments"] and len(aliased["departments"]) == 15
    assert aliased["input"]["sha256"] == declared["input"]["sha256"]  # the scored content is the sample's
    assert aliased["input"]["aliases"] == [{"alias": "市住建局", "department": "市住房建设局",
                                            "cases": ["2020-J0015", "2020-J0036"]}]
    assert "aliases" not in declared["input"]
    # explain and self-check take the alias for the department too
    run = scoring("explain", *RULES, "--overlay", DEPARTMENTS, "--cases", cases, "--department", "市住建局")
    assert run.returncode == 0 and run.stdout.startswith("市住房建设局  总分 40.53")


def test_a_name_outside_the_declared_departments_is_an_error_with_the_closest_names(tmp_path):
    cases = written(tmp_path, "市住房建没局")
    run = scoring("score", *RULES, "--overlay", DEPARTMENTS, "--cases", cases)
    assert run.returncode == 2 and run.stdout == ""
    message = ('"市住房建没局" is not a department the rulebook assesses (closest: 市住房建设局); add it to [departments] '
               "assessed, or map it to one of them under [departments] aliases")
    assert run.stderr == (f"error: {cases}: 2 problem(s) in 2 case(s); nothing was scored:\n"
                          f"  {cases}:15: case 2020-J0015, handlers[0].department: {message}\n"
                          f"  {cases}:36: case 2020-J0036, handlers[0].department: {message}\n")
    kept = ledger(*RULES, "--overlay", DEPARTMENTS, "--cases", cases, "--skip-invalid")
    assert [s["case"] for s in kept["input"]["skipped"]] == ["2020-J0015", "2020-J0036"]
    # in a register, on the row of the unit
    workbook = load_workbook(REGISTER)
    sheet = workbook["办理台账"]
    row = next(r for r in range(3, sheet.max_row + 1) if sheet[f"I{r}"].value == "市住房建设局")
    sheet[f"I{row}"] = "市住房建没局"
    register = tmp_path / "register.xlsx"
    workbook.save(register)
    run = scoring("score", *RULES, "--overlay", DEPARTMENTS, "--cases", register)
    assert run.returncode == 2
    assert (f'{register}:{row}: sheet 办理台账, column 承办单位 (I), case 2020-J0002, handlers[1].department: "市住房建没局" '
            "is not a department the rulebook assesses (closest: 市住房建设局)") in run.stderr


def test_the_rulebook_itself_may_declare_them_and_a_bad_declaration_is_named(tmp_path):
    text = REFERENCE.read_text(encoding="utf-8")
    book = tmp_path / "book.toml"
    book.write_text(text + '\n[departments]\nassessed = ["市民政局", "市教育局"]\naliases = { "民政局" = "市民正局" }\n',
                    encoding="utf-8")
    line = text.count("\n") + 4
    run = scoring("score", "--rules", book, "--cases", SAMPLE)
    assert run.returncode == 2
    assert f'book.toml:{line}: departments.aliases.民政局: "市民正局" is not a department of [departments] assessed ' \
           '(did you mean "市民政局"?)' in run.stderr
    book.write_text(text + '\n[departments]\nassessed = ["市民政局", "市教育局"]\n', encoding="utf-8")
    run = scoring("score", "--rules", book, "--cases", SAMPLE)
    assert run.returncode == 2 and "nothing was scored" in run.stderr
    assert '"市知识产权局" is not a department the rulebook assesses' in run.stderr


def test_names_that_only_look_alike_are_not_warned_about():
    from scoring.inputs.departments import similar_pairs, similarity
    assert similarity("市住建局", "市住房和城乡建设局") == "both read 市住建局 once abbreviated"
    assert similarity("市发改委", "市发展和改革委员会") == "both read 市发改委 once abbreviated"
    assert similarity("市交通运数局", "市交通运输局") == "they are one character apart"
    assert similarity("甲 局", "甲局") == "they differ only in spaces or in full-width characters"
    assert similarity("市规划局", "市规划和自然资源局") == "市规划局 could be an abbreviation of 市规划和自然资源局"
    for a, b in (("市教育局", "市体育局"), ("市民政局", "市民宗局"), ("市城管局", "市城管委"), ("甲局", "乙局")):
        assert similarity(a, b) is None, (a, b)
    names = {h["department"] for line in SAMPLE.read_text(encoding="utf-8").split("\n") if line
             for h in json.loads(line)["handlers"]}
    assert len(names) == 15 and similar_pairs(names) == []


def test_department_records_may_name_a_department_by_its_alias(tmp_path):
    fixtures = ROOT / "rules" / "combined-2020.tests"
    book = tmp_path / "combined.toml"
    book.write_text((ROOT / "rules" / "combined-2020.toml").read_text(encoding="utf-8")
                    + '\n[departments]\naliases = { "市发改委" = "市发展改革委" }\n', encoding="utf-8")
    records = tmp_path / "records.jsonl"
    records.write_text((fixtures / "categories-scorers-departments.jsonl").read_text(encoding="utf-8")
                       .replace('"市发展改革委"', '"市发改委"'), encoding="utf-8")
    options = ("--cases", fixtures / "categories-scorers.jsonl")
    found = ledger("--rules", book, *options, "--departments", records)
    expected = ledger("--rules", book, *options, "--departments", fixtures / "categories-scorers-departments.jsonl")
    assert found["departments"] == expected["departments"]
