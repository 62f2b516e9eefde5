"""Inputs built to be expensive are refused at once, naming the file and the place that crosses a limit (exit 2).

Before (bench/hostile.py against 6748159, the README's "Limits"): a 5 KB workbook with one value
on row 1,048,576 took 69 s and 1.8 GB; a 1 MB archive unpacking to a gigabyte, a case with 20,000
replies, 60,000 cases or 255 MB of blank lines did not end in 90 s (up to 3.9 GB); /dev/zero was
read until memory ran out. Here most limits are lowered for the test (the readers look them up
when they run), so that small inputs cross them: each test checks the message, the place it
names, and that nothing was scored.
"""
import io
import json
import os
import threading
import time
import zipfile

import pytest
from casekit import REFERENCE, SAMPLE
from clikit import scoring
from openpyxl import Workbook

import scoring.base.files as files
import scoring.inputs.case_file as case_file
import scoring.inputs.workbook as workbook

RULES = ("--rules", REFERENCE)
HEADERS = ["案号", "类别", "标题", "提出人", "承办单位", "办理类型", "交办日期"]
ROW = ["C1", "提案", "关于C1的提案", "张委员", "甲局", "主办", "2020-03-10"]


def register(path, far=None, formatted=None, title=None, process=0):
    """A register of one case; `process` rows of contacts on sheet 办理过程."""
    book = Workbook()
    sheet = book.active
    sheet.title = "办理台账"
    sheet.append(HEADERS)
    sheet.append(ROW if title is None else [*ROW[:2], title, *ROW[3:]])
    if far:
        sheet[far] = "x"
    if formatted:
        sheet[formatted].number_format = "0.00"
    if process:
        steps = book.create_sheet("办理过程")
        steps.append(["案号", "单位", "日期", "事项", "方式"])
        for _ in range(process):
            steps.append(["C1", "甲局", "2020-04-01", "联系", "电话"])
    book.save(path)
    return path


def rewritten(path, part, change):
    """The workbook at path with one part's bytes changed (the archive written again)."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item)
            archive.writestr(item, change(data) if item.filename == part else data)
    return path


def timed(*argv):
    start = time.perf_counter()
    run = scoring(*argv)
    return run, time.perf_counter() - start


def one_case() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8").split("\n")[0])


def cases_file(path, cases):
    path.write_text("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases), encoding="utf-8")
    return path


def refused(run) -> str:
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    return run.stderr


# ---------------------------------------------------------------- workbooks

@pytest.mark.parametrize("far, message", [
    ("A1048576", "cell A1048576 holds a value on row 1,048,576; a register sheet has at most 20,000 rows"),
    ("A20001", "cell A20001 holds a value on row 20,001; a register sheet has at most 20,000 rows"),
    ("XFD2", "cell XFD2 holds a value in column 16,384; a register sheet has at most 200 columns"),
])
def test_a_value_far_beyond_the_register_is_refused_at_once(tmp_path, far, message):
    path = register(tmp_path / "far.xlsx", far=far)
    assert path.stat().st_size < 6000
    run, seconds = timed("score", *RULES, "--cases", path)
    assert refused(run) == f"error: {path}: sheet 办理台账: {message} (delete the " + run.stderr.split("(delete the ")[1]
    assert seconds < 5


def test_a_formatted_blank_cell_far_below_is_not_walked(tmp_path):
    path = register(tmp_path / "formatted.xlsx", formatted="A1048576")
    run, seconds = timed("import", path, "--out", tmp_path / "cases.jsonl")
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["id"] for line in (tmp_path / "cases.jsonl").read_text(encoding="utf-8").split("\n") if line] == [
        "C1"]
    assert seconds < 5


def test_an_archive_that_unpacks_beyond_the_limit_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_UNPACKED_BYTES", 2**20)
    bomb = rewritten(register(tmp_path / "bomb.xlsx", title="TITLE"), "xl/worksheets/sheet1.xml",
                     lambda data: data.replace(b">TITLE<", b">" + b"A" * (3 * 2**20) + b"<"))  # the title: 3 MB of text
    assert bomb.stat().st_size < 50_000 and zipfile.ZipFile(bomb).getinfo("xl/worksheets/sheet1.xml").file_size > 3 * 2**20
    run = scoring("score", *RULES, "--cases", bomb)
    assert refused(run) == f"error: {bomb}: the workbook unpacks to 3 MB, more than a register may (1 MB): nothing was read\n"


def test_an_archive_of_many_parts_is_refused_before_its_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_WORKBOOK_PARTS", 30)
    path = register(tmp_path / "parts.xlsx")
    with zipfile.ZipFile(path, "a") as archive:
        for n in range(30):
            archive.writestr(f"junk/{n}", b"")
    run = scoring("score", *RULES, "--cases", path)
    parts = len(zipfile.ZipFile(path).infolist())
    assert refused(run) == f"error: {path}: the archive lists {parts} parts; a register has at most 30: nothing was read\n"


def test_elements_and_cells_are_counted_over_the_whole_workbook(tmp_path, monkeypatch):
    # XML that is no cell (a sheet's extension list) is counted too, and dropped as it is read
    monkeypatch.setattr(workbook, "MAX_WORKBOOK_ELEMENTS", 500)
    path = rewritten(register(tmp_path / "junk.xlsx"), "xl/worksheets/sheet1.xml",
                     lambda data: data.replace(b"</worksheet>", b"<extLst>" + b"<a/>" * 600 + b"</extLst></worksheet>"))
    assert refused(scoring("score", *RULES, "--cases", path)) == (
        f"error: {path}: sheet 办理台账: more than 500 XML elements in the workbook's sheets, up to row 2 of this one "
        "(a register's hold about three per cell): nothing was read\n")
    # formatted blank cells on a second sheet count with the register's own
    monkeypatch.setattr(workbook, "MAX_WORKBOOK_CELLS", 100)
    path = register(tmp_path / "cells.xlsx", process=2)
    book_rows = 2 * (1 + len(HEADERS)) + 3 * (1 + 5)  # rows and cells written: 14 on the first sheet, 18 on the second
    assert book_rows < 100
    from openpyxl import load_workbook
    book = load_workbook(path)
    for row in range(10, 20):
        for column in range(1, 11):
            book["办理过程"].cell(row, column).number_format = "0.00"
    book.save(path)
    assert refused(scoring("score", *RULES, "--cases", path)).startswith(
        f"error: {path}: sheet 办理过程: more than 100 rows and cells are written in the workbook, up to row ")


def test_a_cell_holding_a_long_text_is_named(tmp_path):
    path = register(tmp_path / "long.xlsx", title="长" * 10_001)
    assert (f"{path}:2: sheet 办理台账, column 标题 (C), case C1: a text of 10,001 characters; a text may hold at most "
            "10,000") in refused(scoring("score", *RULES, "--cases", path))


def test_a_case_of_a_register_with_too_many_events_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(case_file, "MAX_EVENTS", 5)
    path = register(tmp_path / "events.xlsx", process=5)  # assigned + 5 contacts
    assert f"{path}:2: sheet 办理台账, case C1, events: 6 events; a case may have at most 5" in refused(
        scoring("score", *RULES, "--cases", path))


# ---------------------------------------------------------------- case files

def test_a_line_too_long_for_one_case_is_not_decoded_and_is_skipped_with_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(case_file, "MAX_CASE_CHARACTERS", 5_000)
    case = one_case()
    long_line = json.dumps(case, ensure_ascii=False)[:-1] + ', "x": "' + "长" * 5_000 + '"}'
    path = tmp_path / "long.jsonl"
    path.write_text("\n".join(json.dumps({**case, "id": f"C{n}"}, ensure_ascii=False) for n in range(3)) + "\n\n\n"
                    + long_line + "\n", encoding="utf-8")
    message = f"{path}:6: a record of {len(long_line):,} characters; one case may take at most 5,000"
    assert message in refused(scoring("score", *RULES, "--cases", path))
    run = scoring("score", *RULES, "--cases", path, "--skip-invalid", "--format", "json")
    assert run.returncode == 0 and run.stderr == f"skipped: {path}:6: case ?: " + message.split(":6: ")[1] + "\n"
    assert json.loads(run.stdout)["input"]["skipped"][0]["line"] == 6
    # an element of an array: decoded (its end is found so), then refused the same way
    path = tmp_path / "long.json"
    path.write_text("[\n" + json.dumps(case, ensure_ascii=False) + ",\n" + long_line + "\n]\n", encoding="utf-8")
    assert f"{path}:3: a record of {len(long_line):,} characters; one case may take at most 5,000" in refused(
        scoring("score", *RULES, "--cases", path))


def test_a_case_with_too_many_events_is_refused_before_it_is_validated(tmp_path, monkeypatch):
    monkeypatch.setattr(case_file, "MAX_EVENTS", 10)
    case = one_case()
    department = case["handlers"][0]["department"]
    case["events"] += [{"id": f"r{i}", "type": "reply", "date": "2020-05-01", "department": department, "outcome": "A"}
                       for i in range(10)]
    path = cases_file(tmp_path / "events.jsonl", [case])
    assert refused(scoring("score", *RULES, "--cases", path)).splitlines()[1:] == [
        f"  {path}:1: case {case['id']}, events: {len(case['events'])} events; a case may have at most 10"]


def test_a_long_text_a_long_key_and_a_deep_nesting_are_refused(tmp_path):
    case = one_case()
    case["title"] = "长" * 10_001
    nested = 1
    for _ in range(20):
        nested = [nested]
    case["extra"] = {"a": nested, "k" * 10_001: 1}
    path = cases_file(tmp_path / "big.jsonl", [case])
    assert refused(scoring("score", *RULES, "--cases", path)).splitlines()[1:] == [
        f"  {path}:1: case {case['id']}, extra.a[0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 16 levels",
        f"  {path}:1: case {case['id']}, extra.kkkkkkkkkkkkkkkkkkkk…(10,001 characters): a key of 10,001 characters; "
        "a text may hold at most 10,000",
        f"  {path}:1: case {case['id']}, title: a text of 10,001 characters; a text may hold at most 10,000"]


def test_a_case_with_thousands_of_problems_lists_ten(tmp_path):
    case = one_case()
    deep = [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]  # 16 levels: each one more is too deep
    case["extra"] = {"a": [deep] * 3_000}
    path = cases_file(tmp_path / "wide.jsonl", [case])
    lines = refused(scoring("score", *RULES, "--cases", path)).splitlines()[1:]
    assert len(lines) == 11 and lines[-1] == f"  {path}:1: case {case['id']}: and 2,990 more such problems"
    assert all(line.endswith(": nested deeper than 16 levels") for line in lines[:10])


def test_more_records_than_a_file_may_hold_are_refused_before_any_is_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(case_file, "MAX_CASES", 3)
    small = {"id": "", "kind": "proposal", "handlers": [{"department": "甲局", "role": "lead"}],
             "events": [{"id": "e1", "type": "assigned", "date": "2020-03-10", "department": "甲局"}]}
    lines = [json.dumps({**small, "id": f"C{n}"}) for n in range(4)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n\n".join(lines[:3]) + "\n \n", encoding="utf-8")  # blank lines are no records
    assert scoring("score", *RULES, "--cases", path, "--jobs", "0").returncode == 0
    path.write_text("\n\n".join(lines[:3]) + "\nnot JSON\n", encoding="utf-8")  # a line that is not JSON is one
    run = scoring("score", *RULES, "--cases", path)
    assert refused(run) == f"error: {path}: more than 3 records; a file may hold at most 3: nothing was read\n"
    path = tmp_path / "many.json"
    path.write_text("[\n" + ",\n".join(lines[:3]) + ",\n  123]\n", encoding="utf-8")
    assert refused(scoring("score", *RULES, "--cases", path)) == (
        f"error: {path}:5: record 4: more than 3 records; a file may hold at most 3: nothing was read\n")


def test_lines_are_numbered_across_blank_lines_and_their_number_is_bounded(tmp_path, monkeypatch):
    case = one_case()
    path = tmp_path / "blank.jsonl"
    path.write_text("\n" * 200_000 + " \t\u3000\r\n" + json.dumps({**case, "title": 7}, ensure_ascii=False) + "\r\n",
                    encoding="utf-8")
    assert f"{path}:200002: case {case['id']}, title: Input should be a valid string" in refused(
        scoring("score", *RULES, "--cases", path))
    monkeypatch.setattr(case_file, "MAX_LINES", 100_000)  # (each line is looked at: their number is bounded too)
    assert refused(scoring("score", *RULES, "--cases", path)) == (
        f"error: {path}: 200,002 lines; a file of JSON Lines may have at most 100,000, blank ones included: "
        "nothing was read\n")


def test_a_file_larger_than_an_input_may_be_is_refused_by_its_size_unread(tmp_path):
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as stream:
        stream.truncate(256 * 2**20 + 1)  # sparse: no disk is used, and it is not read
    run, seconds = timed("score", *RULES, "--cases", path)
    assert refused(run) == f"error: {path}: the case file is larger than 256 MB, the most an input may be; nothing was read\n"
    assert seconds < 5


def test_a_device_or_a_pipe_is_read_up_to_the_limit_and_no_further(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 3 * 2**20)
    run = scoring("score", *RULES, "--cases", "/dev/zero")
    assert refused(run) == "error: /dev/zero: the case file is larger than 3 MB, the most an input may be; nothing was read\n"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def write(size):
        try:
            with open(fifo, "wb", buffering=0) as stream:
                stream.write(b" " * size)
        except BrokenPipeError:  # the reader stopped at the limit
            pass

    writer = threading.Thread(target=write, args=(4 * 2**20,), daemon=True)
    writer.start()
    run = scoring("score", *RULES, "--cases", fifo)
    writer.join(10)
    assert refused(run) == f"error: {fifo}: the case file is larger than 3 MB, the most an input may be; nothing was read\n"
    writer = threading.Thread(target=write, args=(3 * 2**20,), daemon=True)  # at the limit: read, and found to hold no case
    writer.start()
    run = scoring("score", *RULES, "--cases", fifo)
    writer.join(10)
    assert f"{fifo}: the file holds no cases" in refused(run)


def test_a_ledger_nested_too_deeply_is_refused_by_diff_and_verify(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    run = scoring("diff", path, path)
    assert refused(run) == f"error: {path}: not a ledger (JSON nested too deeply)\n"
    run = scoring("verify", path, *RULES, "--cases", SAMPLE)
    assert refused(run).startswith(f"error: {path}: not a ledger")


def test_a_rules_directory_with_a_file_nested_too_deeply_chooses_among_the_others(tmp_path):
    (tmp_path / "rulebook.toml").write_bytes(REFERENCE.read_bytes())
    (tmp_path / "deep.toml").write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")  # a traceback
    run = scoring("score", "--rules", tmp_path, "--cases", SAMPLE, "--format", "json")
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert json.loads(run.stdout)["input"]["cases"] == 209
