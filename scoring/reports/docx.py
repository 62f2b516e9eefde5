"""The monthly bulletin as a Word document, laid out as a government notice (通报).

Title in the heading face, centred; the issuing office and the date of issue under it; a short
opening; then 一、二、三 with the ranking, the deadlines missed in the month and those coming
due; what the figures mean; the rulebook and input hashes in small print at the end. A4, the
body in 仿宋 (FangSong), headings in 黑体 (SimHei): the faces Chinese offices print notices with
(a machine without them shows its own Chinese face).

The bytes depend on the inputs only: the package's times are fixed, as in the workbooks.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from scoring.ledger.labels import assigned_word

from .bulletin import heading, issue_line
from .bulletin import tables as bulletin_tables
from .display import NONE, display_width
from .package import FIXED_TIME, repack
from .text import RIGHT, TEXT_CELLS, bulletin_notes, hashes_line, rate_text, rulebook_line

if TYPE_CHECKING:  # the result's shape; renderers never load what made it
    from scoring.app.results import BulletinResult

BODY_FACE, HEADING_FACE, TITLE_FACE = "仿宋", "黑体", "方正小标宋简体"
NUMERALS = "一二三四五六七八九十"
PAGE_MM, MARGIN_MM = (297, 210), 20  # A4 across: the ranking has up to eleven columns
TEXT_WIDTH_MM = PAGE_MM[0] - 2 * MARGIN_MM
MAX_COLUMN = 40  # display columns a table column asks for at most: longer text wraps
COLUMN_MM, PADDING_MM = 2.0, 3.0  # a display column of 10-point text, and a cell's margins
WRAPPABLE_MM = 30  # columns wider than this give way when the page is too narrow


def bulletin_docx(result: BulletinResult) -> bytes:
    d = result.document
    document = Document()
    _page(document)
    _face(document.styles["Normal"], BODY_FACE, 12)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, heading(d), TITLE_FACE, 18, bold=True)
    issued = issue_line(result.issuer, result.issued)
    if issued:
        line = document.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(line, issued, BODY_FACE, 12)
    year, month = d["month"].split("-")
    as_of = dt.date.fromisoformat(d["as_of"])
    figures = result.figures
    rates = "".join(f"，{rate_text(rate, space='')}" for rate in figures.rates)
    document.add_paragraph(
        f"截至{as_of.year}年{as_of.month}月{as_of.day}日，{figures.departments}个单位已{assigned_word(result.labels)}{d['input']['cases']:,}件{rates}。"
        f"现将{int(year)}年{int(month)}月各单位办理情况通报如下：")
    for number, table in zip(NUMERALS, bulletin_tables(d)):
        section = document.add_paragraph()
        _run(section, f"{number}、{table.title}", HEADING_FACE, 12, bold=True)
        if not table.rows:
            document.add_paragraph("无。")
            continue
        _table(document, table)
        if number == NUMERALS[0]:
            for note in bulletin_notes(d):
                _run(document.add_paragraph(), note, BODY_FACE, 9)
    _run(document.add_paragraph(), f"{rulebook_line(d['rulebook'])} · {hashes_line(d['rulebook'], d['input'])}", BODY_FACE, 8)
    properties = document.core_properties
    properties.title, properties.author, properties.last_modified_by = heading(d), result.issuer or "", ""
    properties.created = properties.modified = FIXED_TIME
    properties.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return repack(buffer.getvalue())


def _page(document) -> None:
    """A4 across, the margins of a printed notice."""
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.left_margin = section.right_margin = Mm(MARGIN_MM)
    section.top_margin = section.bottom_margin = Mm(18)


def _table(document, table) -> None:
    """The header row repeats on every page; each column as wide as its text needs, within the page."""
    texts = [[TEXT_CELLS[kind](value) if value is not None or kind == "move" else NONE
              for kind, value in zip(table.kinds, row)] for row in table.rows]
    grid = document.add_table(rows=1, cols=len(table.headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    header = grid.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, name in zip(header.cells, table.headers):
        _run(cell.paragraphs[0], name, HEADING_FACE, 10, bold=True)
    for row in texts:
        for cell, kind, text in zip(grid.add_row().cells, table.kinds, row):
            _run(cell.paragraphs[0], text, BODY_FACE, 10)
            if kind in RIGHT:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for column, width in zip(grid.columns, _widths(table.headers, texts)):
        for cell in column.cells:  # Word reads the cells' widths, LibreOffice the grid's: set both
            cell.width = width
        column.width = width


def _widths(headers: list[str], rows: list[list[str]]) -> list[int]:
    """Column widths: each column as wide as its longest text (a Chinese character counts two
    columns, at most MAX_COLUMN); what is left of the page goes to the columns in proportion, and
    when the page is too narrow only the wide columns (whose text wraps anyway) give way."""
    need = [min(MAX_COLUMN, max(display_width(text) for text in column)) * COLUMN_MM + PADDING_MM
            for column in zip(headers, *rows)]
    wide = [n > WRAPPABLE_MM for n in need]
    if sum(need) > TEXT_WIDTH_MM and any(wide):
        room = max(TEXT_WIDTH_MM - sum(n for n, w in zip(need, wide) if not w), WRAPPABLE_MM * sum(wide))
        total = sum(n for n, w in zip(need, wide) if w)
        need = [n * room / total if w else n for n, w in zip(need, wide)]
    return [Mm(n * TEXT_WIDTH_MM / sum(need)) for n in need]


def _run(paragraph, text: str, face: str, size: float, bold: bool = False):
    run = paragraph.add_run(text)
    _face(run, face, size)
    run.bold = bold
    return run


def _face(styled, face: str, size: float) -> None:
    """The face for Chinese text too: Word takes East Asian characters from w:eastAsia, not from the font name."""
    styled.font.name = face
    styled.font.size = Pt(size)
    properties = styled.element.get_or_add_rPr()
    properties.get_or_add_rFonts().set(qn("w:eastAsia"), face)
