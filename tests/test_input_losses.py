"""No input lost without a word: each of these once dropped cases, events or columns and still exited 0.

Run through the command line, as a user meets them; each names the file and the line, cell or case.
"""
import json
import re
import zipfile

from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring
from openpyxl import load_workbook

RULES = ("--rules", REFERENCE)
REGISTER = ROOT / "samples" / "register-2020.xlsx"


def sample_rows() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").split("\n") if line]


# ---------------------------------------------------------------- case files

def test_cases_after_the_closing_bracket_of_an_array_are_an_error_naming_the_line(tmp_path):
    rows = sample_rows()
    first, second = json.dumps(rows[:100], ensure_ascii=False, indent=1), json.dumps(rows[100:], ensure_ascii=False, indent=1)
    joined = tmp_path / "joined.json"  # two files concatenated
    joined.write_text(first + "\n" + second + "\n", encoding="utf-8")
    line = first.count("\n") + 2
    for extra in ((), ("--skip-invalid",)):  # the cases after it cannot be read: skipping does not apply
        run = scoring("score", *RULES, "--cases", joined, *extra)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert f'{joined}:{line}: more text after the closing "]" of the array of cases (two files joined?)' in run.stderr
        assert run.stdout == ""


def test_a_line_that_is_not_json_is_listed_with_the_skipped_cases(tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines[:3] + ['{"id": "2020-X", "kind": "proposal",'] + lines[3:6]) + "\n", encoding="utf-8")
    run = scoring("score", *RULES, "--cases", broken, "--skip-invalid", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["input"]["skipped"] == [
        {"case": None, "line": 4, "problems": ["not valid JSON: Expecting property name enclosed in double quotes (column 37)"]}]
    assert f"skipped: {broken}:4: case ?: not valid JSON" in run.stderr


def test_a_key_given_twice_in_a_case_is_an_error(tmp_path):
    rows = sample_rows()
    text = json.dumps(rows[0], ensure_ascii=False)
    twice = tmp_path / "twice.jsonl"  # json keeps the last "events" and drops the first without a word
    twice.write_text(text.replace('"events": [', '"events": [], "events": [', 1) + "\n", encoding="utf-8")
    run = scoring("score", *RULES, "--cases", twice)
    assert run.returncode == 2
    assert f'{twice}:1: not valid JSON: the key "events" is given twice in one object' in run.stderr


def test_deeply_nested_json_is_an_error_not_a_traceback(tmp_path):
    for name, text in (("deep.jsonl", '{"id": "C1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n"),
                       ("deep.json", "[" + "[" * 100_000 + "]" * 100_000 + "]\n")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        run = scoring("score", *RULES, "--cases", path)
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert f"{path}:1: not valid JSON: nested too deeply" in run.stderr


def test_text_with_a_line_separator_imports_and_scores(tmp_path):
    """JSON and TOML allow U+2028 and U+2029 inside strings; reading split lines at them and cut a case in two."""
    workbook = load_workbook(REGISTER)
    workbook["办理台账"]["E3"] = "关于完善工伤\u2028保险制度的建议\u2029"
    register = tmp_path / "register.xlsx"
    workbook.save(register)
    cases = tmp_path / "cases.jsonl"
    assert scoring("import", register, "--out", cases).returncode == 0
    assert "\u2028" in cases.read_text(encoding="utf-8")
    run = scoring("score", *RULES, "--cases", cases, "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["input"]["cases"] == 209
    # the lines of a rulebook's problems are counted the same way
    text = REFERENCE.read_text(encoding="utf-8").replace('title = "', 'title = "\u2028', 1)
    book = tmp_path / "book.toml"
    book.write_text(text.replace('when = "s.date <= sign_due"', 'when = "s.date <= sing_due"', 1), encoding="utf-8")
    line = next(n for n, t in enumerate(text.split("\n"), 1) if 's.date <= sign_due"' in t)
    run = scoring("score", "--rules", book, "--cases", SAMPLE)
    assert run.returncode == 2 and f'book.toml:{line}: criterion[0].rule[0].when: unknown name "sing_due"' in run.stderr


# ---------------------------------------------------------------- Excel registers

def renamed_register(tmp_path, old: str, new: str, event_ids: bool = True):
    """The sample register with one header renamed (and, without event ids, their headers blanked: not read)."""
    workbook = load_workbook(REGISTER)
    for sheet in workbook.worksheets:
        for cell in sheet[2 if sheet.title == "办理台账" else 1]:
            if cell.value == old:
                cell.value = new
            elif not event_ids and str(cell.value).endswith("事件编号"):
                cell.value = None
    path = tmp_path / f"{new}.xlsx"
    workbook.save(path)
    return path


def ranking(run) -> list[tuple]:
    assert run.returncode == 0, run.stderr
    return [(d["department"], d["total"], d["grade"]) for d in json.loads(run.stdout)["departments"]]


def test_a_renamed_optional_column_is_an_error_not_a_year_without_publications(tmp_path):
    register = renamed_register(tmp_path, "公开日期", "网上公开日期", event_ids=False)
    run = scoring("score", *RULES, "--cases", register, "--format", "json")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (
        f"error: {register}: 1 problem(s) in the register; nothing was read:\n"
        f'  {register}:2: sheet 办理台账, column 网上公开日期 (Q): no field of the mapping has the header "网上公开日期"; '
        "the closest known headers: 公开日期 (published). Name its column under [main.columns] (or [main.extra]) in a "
        "mapping, or list the header in [main] ignore if the column is not to be read\n")
    # named in a mapping, the column is read again: the sample's ranking
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[main.columns]\npublished = ["公开日期", "网上公开日期"]\n', encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    assert scoring("import", register, "--mapping", mapping, "--out", cases).returncode == 0
    sample = ranking(scoring("score", *RULES, "--cases", SAMPLE, "--format", "json"))
    assert ranking(scoring("score", *RULES, "--cases", cases, "--format", "json")) == sample
    # ignored on purpose, it is not read (the user's list replaces the default one: 序号 is repeated)
    mapping.write_text('[main]\nignore = ["序号", "网上公开日期"]\n', encoding="utf-8")
    assert scoring("import", register, "--mapping", mapping, "--out", cases).returncode == 0
    assert ranking(scoring("score", *RULES, "--cases", cases, "--format", "json")) != sample


def test_a_misnamed_column_is_named_once_not_once_per_row(tmp_path):
    register = renamed_register(tmp_path, "签收日期", "签收日")
    run = scoring("import", register, "--out", tmp_path / "cases.jsonl")
    assert run.returncode == 2
    problems = run.stderr.splitlines()[1:]
    assert problems == [
        f'  {register}:2: sheet 办理台账, column 签收日 (L): no field of the mapping has the header "签收日"; the closest '
        "known headers: 签收日期 (signed). Name its column under [main.columns] (or [main.extra]) in a mapping, or list the "
        "header in [main] ignore if the column is not to be read",
        f"  {register}:2: sheet 办理台账, column 签收事件编号 (S): belongs with 签收日期, but the sheet has no 签收日期 column "
        "(headers accepted: 签收日期, 签收时间)"]


def test_a_header_both_read_and_ignored_is_a_mapping_problem(tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[process]\nignore = ["备注"]\n', encoding="utf-8")
    run = scoring("import", REGISTER, "--mapping", mapping, "--out", tmp_path / "cases.jsonl")
    assert run.returncode == 2
    assert f'{mapping}: process.ignore: header "备注" names note; a column is either read or ignored' in run.stderr


def test_a_formula_without_a_saved_value_is_an_error_naming_the_cell(tmp_path):
    """A program that does not calculate (openpyxl here) saves only the formula: it read as a blank date."""
    workbook = load_workbook(renamed_register(tmp_path, "公开事件编号", "公开事件编号", event_ids=False))
    workbook["办理台账"]["Q3"] = "=DATE(2020,6,28)"
    workbook["办理台账"]["Q3"].number_format = "yyyy-mm-dd"
    unsaved = tmp_path / "unsaved.xlsx"
    workbook.save(unsaved)
    run = scoring("score", *RULES, "--cases", unsaved)
    assert run.returncode == 2 and run.stdout == ""
    assert (f"{unsaved}:3: sheet 办理台账, column 公开日期 (Q), case 2020-J0001: cell Q3 holds the formula =DATE(2020,6,28) "
            "but no value saved with it") in run.stderr
    # saved with its value (as Excel saves it), the formula reads as that value: the sample's ranking
    saved = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(unsaved) as source, zipfile.ZipFile(saved, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                # (an empty <v/>, written one way or the other as lxml is installed or not)
                data, count = re.subn(rb"<f>DATE\(2020,6,28\)</f><v ?(/>|></v>)", b"<f>DATE(2020,6,28)</f><v>44010</v>", data)
                assert count == 1
            target.writestr(item, data)
    assert (ranking(scoring("score", *RULES, "--cases", saved, "--format", "json"))
            == ranking(scoring("score", *RULES, "--cases", SAMPLE, "--format", "json")))
