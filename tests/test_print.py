"""The workbooks as they print: converted to PDF by LibreOffice (as a clerk's Excel or WPS would print them),
then read back with poppler. The year workbook printed as 242 pages, with 总分 and 等级 on other pages than
the department names; every sheet now prints on A4, across when wide, every column on the page, the header
row on every page, the title above and the page numbers below."""
from __future__ import annotations

import fcntl
import json
import re
import subprocess
from pathlib import Path

import pytest
from casekit import REFERENCE, SAMPLE
from clikit import scoring
from openpyxl import load_workbook

A4 = (595.3, 841.9)  # points, upright


# What each printing test prints: (file name, the command's arguments, its --format).
BOOKS = {
    "year": ("score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "xlsx"),
    "self-check": ("self-check", "--rules", REFERENCE, "--cases", SAMPLE, "--department", "市民政局",
                   "--as-of", "2020-06-05", "--format", "xlsx"),
    "bulletin": ("bulletin", "--rules", REFERENCE, "--cases", SAMPLE, "--month", "2020-06", "--issuer", "市政府督查室",
                 "--format", "docx"),
}


def print_all(office, folder: Path) -> dict[str, tuple[list[str], list[tuple[float, float]]]]:
    """Per book, the text of each printed page and each page's size: every book converted to PDF by one
    LibreOffice run (its start-up is most of the time a book takes), then read back with poppler."""
    books = []
    for name, args in BOOKS.items():
        book = folder / f"{name}.{args[-1]}"
        run = scoring(*args, "--out", book)
        assert run.returncode == 0, run.stderr
        books.append(book)
    done = subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(folder), *map(str, books)],
                          capture_output=True, text=True, timeout=600)
    printed = {}
    for name in BOOKS:
        pdf = folder / f"{name}.pdf"
        assert done.returncode == 0 and pdf.exists(), done.stderr + done.stdout
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        printed[name] = (text.split("\f")[:len(sizes)], sizes)
    return printed


@pytest.fixture(scope="session")
def printouts(office, tmp_path_factory, worker_id):
    """print_all, once for the whole run: the pytest-xdist workers share it through a file in their common
    temporary directory, made by the first that needs it while the others wait on its lock."""
    if worker_id == "master":  # not under xdist
        return print_all(office, tmp_path_factory.mktemp("printed"))
    shared = tmp_path_factory.getbasetemp().parent  # this run's, common to its workers
    with open(shared / "printed.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = shared / "printed.json"
        if not found.exists():
            folder = shared / "printed"
            folder.mkdir()
            found.write_text(json.dumps(print_all(office, folder), ensure_ascii=False), encoding="utf-8")
    return {name: (pages, [tuple(size) for size in sizes])
            for name, (pages, sizes) in json.loads(found.read_text(encoding="utf-8")).items()}


def test_the_year_workbook_prints_on_a4_with_the_ranking_on_one_page(printouts):
    pages, sizes = printouts["year"]
    assert all(sorted(size) == pytest.approx(A4, abs=1) for size in sizes)
    assert len(pages) < 100  # was 242
    # the pooled figures under the title and the hashes at the foot take no page more (74 before they came)
    assert len(pages) <= 74
    assert "面商率 68.0%（153/225）" in pages[0]
    ranking = json_ranking()
    first = pages[0]
    assert all(name in first for name in ranking) and "总分" in first and "等级" in first  # every column on the page
    for page, number in zip(pages, range(1, len(pages) + 1)):
        assert f"第 {number} 页，共 {len(pages)} 页" in page
    # the ledger sheet repeats its header row on every page it takes
    ledger_pages = [page for page in pages if "依据（事件@日期）" in page]
    assert len(ledger_pages) > 5 and all("说明" in page for page in ledger_pages)


def test_the_self_check_workbook_prints_on_a4(printouts):
    pages, sizes = printouts["self-check"]
    assert all(sorted(size) == pytest.approx(A4, abs=1) for size in sizes)
    assert "已得分" in pages[0] and "可达上限" in pages[0] and "L7 " in pages[0]
    assert len(pages) <= 6  # as many as before the hashes moved to the foot


def test_the_word_bulletin_prints_on_a4_across_with_its_header_rows_repeated(printouts):
    pages, sizes = printouts["bulletin"]
    assert all(size == pytest.approx(A4[::-1], abs=1) for size in sizes)
    assert "2020年6月通报" in "".join(pages[0].split()) and "市政府督查室" in pages[0]  # pdftotext spaces 2020 年
    assert all(name in pages[0] for name in json_ranking())  # the whole ranking on the first page
    assert len(pages) <= 7  # the figures in the opening paragraph take no page more
    # the deadline tables run over pages: each page of theirs starts with the header row
    continued = pages[1:]
    assert len(continued) > 2 and all(re.search(r"部门\s+案号\s+事项\s+期限", page) for page in continued)
    # no case number is broken over two lines (its column is as wide as it needs)
    assert not re.search(r"2020-\s*\n", "\n".join(pages))


def test_every_sheet_says_how_it_prints(tmp_path):
    """What a spreadsheet program reads (no LibreOffice needed): paper, fit, header row, header and footer."""
    book = tmp_path / "book.xlsx"
    assert scoring("score", "--rules", REFERENCE, "--cases", SAMPLE, "--format", "xlsx", "--out", book).returncode == 0
    for sheet in load_workbook(book).worksheets:
        setup = sheet.page_setup
        assert str(setup.paperSize) == sheet.PAPERSIZE_A4 and setup.fitToWidth == 1 and setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows
        assert "&P" in sheet.oddFooter.center.text and sheet.oddHeader.center.text
        wide = sum(d.width or 0 for d in sheet.column_dimensions.values()) > 95
        assert setup.orientation == ("landscape" if wide else "portrait"), sheet.title


def json_ranking() -> list[str]:
    return [d["department"] for d in json.loads(scoring("score", "--rules", REFERENCE, "--cases", SAMPLE,
                                                        "--format", "json").stdout)["departments"]]
