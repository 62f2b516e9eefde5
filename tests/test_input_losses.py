"""No input lost without a word: each of these once dropped cases, events or columns and still exited 0.

Run through the command line, as a user meets them; each names the file and the line, cell or case.
"""
import json

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
    assert "skipped: case ?: not valid JSON" in run.stderr


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
