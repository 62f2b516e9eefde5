"""The score report and the monthly bulletin as self-contained HTML pages, for screen and A4 print.

One file each, nothing fetched: the CSS and a small script inline, the chart as inline SVG,
so that the page opens from file:// and prints the same anywhere. Same inputs, same bytes
(no clock, no random ids). Rendered from the ledger and bulletin dicts, with the labels of
the terminal report (report.py), so the page and the JSON cannot differ. Closed drill-downs
(<details>) work without the script and do not print their content.

Each page is first a `Page` (title, facts, sections of finished HTML): the files here put it
in this module's skeleton, the web workbench (scoring.web) in its own frame, and the
self-check has a page only there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

from scoring.ledger.labels import Labels, assigned_word, event_name, kind_name, role_name

from . import display
from .bulletin import figure_names
from .display import plain_number, signed, two_decimals, typeset
from .text import (
    bulletin_notes,
    evidence_events,
    figures_parts,
    hashes_line,
    line_kind,
    period_note,
    rank_move,
    ranking,
    rulebook_line,
    skipped_note,
)

if TYPE_CHECKING:  # the results' shape; renderers never load what made them
    from scoring.app.results import ScoreResult, SelfCheckResult


# grade colours, best to worst; n grades take n of them spread over the list (first green, last red)
PALETTE = ["#2e7d32", "#00838f", "#1565c0", "#b26a00", "#d84315", "#c62828"]
NO_GRADE = "#9e9e9e"
FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif'


# ---------------------------------------------------------------- the pages

@dataclass
class Page:
    title: str
    facts: list[str]  # under the title: the rulebook, the input, ...
    engine: dict  # the versions that made it
    grades: list[str]  # the grade names, best first (their colours)
    sections: list[tuple[str, str]]  # (heading, finished html)
    figures: list[str] = field(default_factory=list)  # what the page opens with: cases, departments, pooled rates
    hashes: str = ""  # the rulebook's and the input's sha256, in small print at the foot


def score_html(result: ScoreResult) -> str:
    return page_html(score_page(result))


def bulletin_html(bulletin: dict, issued: str | None = None, figures=None, labels: Labels | None = None) -> str:
    return page_html(bulletin_page(bulletin, issued, figures, labels))


def score_page(result: ScoreResult) -> Page:
    """The year's report: header, ranking, chart, and per department its items, lines and cases."""
    ledger, grades, ranges, event_dates = result.ledger, result.grades, result.item_ranges, result.event_dates
    book, source = ledger["rulebook"], ledger["input"]
    departments = ledger["departments"]
    when = [period_note(source["period"])] if "period" in source else [f"{result.year} 年度"] * bool(result.year)
    facts = [result.issuer] * bool(result.issuer) + when + [rulebook_line(book), f"承办记录 {source['handlers']} 条"]
    if source["skipped"]:
        facts.append(skipped_note(source["skipped"]))
    details = "".join(_department(i, d, grades, ranges, event_dates, result.labels, result.deducting_items)
                      for i, d in enumerate(departments, 1))
    by = departments[0].get("rank_by") if departments else None
    if by is None:
        figure, bars = "总分", departments
    else:  # the chart shows what ranks: the item's points
        figure = next((c["title"] for d in departments for c in d["criteria"] if c["criterion"] == by), by)
        bars = [{**d, "total": next(c["points"] for c in d["criteria"] if c["criterion"] == by)} for d in departments]
    sections = [("排名", _score_ranking(ledger, grades)),
                (figure, _chart(bars, grades, figure)),
                ("各部门明细", _toolbar() + details)]
    return Page(f"{book['title']} · 评价结果", facts, ledger["engine"], grades, sections,
                figures_parts(result.figures), hashes_line(book, source))


def bulletin_page(bulletin: dict, issued: str | None = None, figures=None, labels: Labels | None = None) -> Page:
    """The month's bulletin: ranking with the change since last month, chart, missed and coming deadlines.
    `issued` is who issues it and when (reports.bulletin.issue_line), first among the facts; `figures` the
    month end's pooled figures (scoring.app.figures.Figures) the page opens with."""
    book, source, grades = bulletin["rulebook"], bulletin["input"], bulletin["grades"]
    previous = f"（上月截至 {bulletin['previous_as_of']}）" if bulletin.get("previous_as_of") else ""
    facts = [issued] * bool(issued) + [f"截至 {bulletin['as_of']}{previous}",
             rulebook_line(book), f"已{assigned_word(labels or {})} {source['cases']} 件"]
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in bulletin_notes(bulletin))
    final = bulletin["final"]
    figure, secured = figure_names(bulletin)
    bars = [{**d, "total": d["reachable"]} for d in bulletin["departments"]]
    sections = [("排名", _bulletin_ranking(bulletin["departments"], grades, final, figure, secured) + notes),
                (figure, _chart(bars, grades if final else [], figure)),
                (f"本月到期未得满分的事项（{len(bulletin['missed'])}）", _missed(bulletin["missed"])),
                (f"下月到期事项（{len(bulletin['due_next_month'])}）", _due(bulletin["due_next_month"]))]
    return Page(f"{bulletin['month']} 月度通报", facts, bulletin["engine"], grades, sections,
                figures_parts(figures) if figures is not None else [], hashes_line(book, source))


def self_check_page(result: SelfCheckResult) -> Page:
    """A department's standing on a date: secured and reachable, then what is at stake, then every case's lines."""
    d, event_dates = result.document, result.event_dates
    grades, source = result.grades, d["input"]
    facts = [f"截至 {d['as_of']}", rulebook_line(d["rulebook"]), f"已{assigned_word(result.labels)} {source['cases']} 件"]
    deducting = result.deducting_items
    sections = [("得分", _standing(d, grades)), ("各项得分", _self_check_criteria(d["criteria"]))]
    sections += [(f"{title}（{len(items)}）" if items else title, _items(items, columns))
                 for title, items, columns in _self_check_lists(d, result.labels)]
    if d["uncovered_years"]:
        years = "、".join(map(str, d["uncovered_years"]))
        sections.append(("工作日历", f'<p class="note">工作日历尚未覆盖 {escape(years)} 年，期限在该年的事项未计剩余工作日'
                                     f"（可在规则文件的 [calendar.years.{d['uncovered_years'][0]}] 中定义该年）。</p>"))
    cases = "".join(_case(c, event_dates, result.labels, deducting) for c in d["cases"])
    sections.append((f"各件明细（截至 {d['as_of']}，括号内为可达分）",
                     f"<h4>部门得分构成</h4>{_department_lines(d, event_dates, deducting)}"
                     f'<h4>办件（{len(d["cases"])}）</h4><div class="cases">{cases}</div>'))
    return Page(f"{d['department']} · 自查", facts, d["engine"], grades, sections, hashes=hashes_line(d["rulebook"], source))


# ---------------------------------------------------------------- skeleton

def page_html(page: Page) -> str:
    """A page as one self-contained file."""
    versions = " · ".join(f"{escape(name)} {escape(str(v))}" for name, v in page.engine.items())
    body = "".join(f'<section><h2>{escape(heading)}</h2>{html}</section>' for heading, html in page.sections)
    return ("<!DOCTYPE html>\n"
            '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(page.title)}</title>\n<style>\n{CSS}{grade_css(page.grades)}</style>\n</head>\n<body>\n"
            f'<header><h1>{escape(page.title)}</h1>'
            f'<p class="facts">{"".join(f"<span>{escape(f)}</span>" for f in page.facts)}</p>{figures_html(page)}</header>\n'
            f"<main>\n{body}\n</main>\n"
            f'<footer>{hashes_html(page)}由 {versions} 生成；同一规则、同一输入得到同一份报告。</footer>\n'
            f"<script>\n{SCRIPT}</script>\n</body>\n</html>\n")


def figures_html(page: Page) -> str:
    """The figures a page opens with, one to a box that wraps to the next line on a phone ('' when none)."""
    if not page.figures:
        return ""
    return '<ul class="figures">' + "".join(f"<li>{escape(f)}</li>" for f in page.figures) + "</ul>"


def hashes_html(page: Page) -> str:
    """The hashes in the footer's small print, on a line of their own ('' when none)."""
    return f'<span class="hashes">{escape(page.hashes)}</span>' if page.hashes else ""


def grade_css(grades: list[str]) -> str:
    """The grades' colours (classes grade-0, grade-1, ... and grade-none), to go after CSS."""
    rules = [f".grade-{i} {{ --grade: {colour}; }}\n" for i, colour in enumerate(_grade_colours(len(grades)))]
    return "".join(rules) + f".grade-none {{ --grade: {NO_GRADE}; }}\n"


def _grade_colours(count: int) -> list[str]:
    if count <= 1:
        return PALETTE[:count]
    last = len(PALETTE) - 1
    return [PALETTE[int(i * last / (count - 1) + 0.5)] for i in range(count)]


def _grade_class(grade: str | None, grades: list[str]) -> str:
    return f"grade-{grades.index(grade)}" if grade in grades else "grade-none"


def _badge(grade: str | None, grades: list[str]) -> str:
    return f'<span class="badge {_grade_class(grade, grades)}">{escape(grade or "—")}</span>'


def _toolbar() -> str:
    return ('<p class="toolbar no-print"><button type="button" data-open="all">全部展开</button>'
            '<button type="button" data-open="none">全部收起</button>'
            '<button type="button" data-print>打印</button></p>')


def _table(headers: list[str], rows: list[str], css: str = "", optional=()) -> str:
    """A table; rows are finished <tr> elements. Header cells whose text starts with '#' are numeric; the columns
    `optional` (indexes) are left out on a phone, their cells made with _td(..., opt=True)."""
    def th(index: int, header: str) -> str:
        css = " ".join(["num"] * header.startswith("#") + ["opt"] * (index in optional))
        return f'<th class="{css}">{escape(header.removeprefix("#"))}</th>' if css else f"<th>{escape(header)}</th>"
    head = "".join(th(i, h) for i, h in enumerate(headers))
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _row(*cells: str, css: str = "") -> str:
    """A <tr> of finished cells (see _td)."""
    start = f'<tr class="{css}">' if css else "<tr>"
    return start + "".join(cells) + "</tr>"


def _td(text, html: str | None = None, num: bool = False, opt: bool = False) -> str:
    """A cell of text (escaped), or of finished html; num: right-aligned figures; opt: left out on a phone."""
    inner = escape(str(text)) if html is None else html
    css = " ".join(["num"] * num + ["opt"] * opt)
    return f'<td class="{css}">{inner}</td>' if css else f"<td>{inner}</td>"


# ---------------------------------------------------------------- chart

CHART_WIDTH, LABEL_RIGHT, BAR_LEFT, BAR_RIGHT = 720, 176, 184, 656
ROW, BAR, AXIS = 22, 14, 22


def _chart(departments: list[dict], grades: list[str], figure: str = "总分") -> str:
    """Horizontal bars of the ranked departments' totals (figure: what the total is), in ledger order,
    coloured by grade (none: a bulletin before the assessment's end grades nobody).

    Unranked departments get a labelled row without a bar: a bar would read as a score."""
    bars = [d for d in departments if d["rank"] is not None and d["total"] is not None]
    lo, hi, step = _axis([d["total"] for d in bars])
    scale = (BAR_RIGHT - BAR_LEFT) / (hi - lo)
    zero = BAR_LEFT - lo * scale
    rows, y, group = [], AXIS, None
    for d in departments:
        if d.get("group") != group:
            group = d.get("group")
            rows.append(f'<text class="group" x="{LABEL_RIGHT}" y="{y + ROW - 7}" text-anchor="end">'
                        f'{escape(group or "—")}</text>')
            y += ROW
        rows.append(_chart_row(d, grades, y, zero, scale, figure))
        y += ROW
    height = y + 6
    ticks = []
    for i in range(round((hi - lo) / step) + 1):
        value = lo + i * step
        x = _coord(zero + value * scale)
        ticks.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{AXIS - 4}" y2="{height - 6}"/>'
                     f'<text class="tick" x="{x}" y="{AXIS - 8}" text-anchor="middle">{plain_number(value)}</text>')
    svg = (f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {height}" width="100%" role="img" '
           f'aria-label="各部门{figure}"><title>各部门{figure}</title>{"".join(ticks)}{"".join(rows)}</svg>')
    return f'<figure class="chart-box">{svg}{_legend(departments, grades)}</figure>'


def _chart_row(d: dict, grades: list[str], y: int, zero: float, scale: float, figure: str) -> str:
    name = escape(d["department"])
    label = f'<text class="label" x="{LABEL_RIGHT}" y="{y + ROW - 7}" text-anchor="end">{name}</text>'
    if d["rank"] is None or d["total"] is None:
        total = f"（{figure} {_decimal(d['total'])}）" if d["total"] is not None else ""
        return label + f'<text class="unranked" x="{BAR_LEFT}" y="{y + ROW - 7}">未排名{total}</text>'
    end = zero + d["total"] * scale
    left, width = min(zero, end), abs(end - zero)
    tip = f"第{d['rank']}名 {d['department']} {_decimal(d['total'])} {d['grade'] or ('无等级' if grades else '')}".rstrip()
    bar = (f'<rect class="bar {_grade_class(d["grade"], grades)}" data-department="{name}" '
           f'data-grade="{escape(d["grade"] or "")}" data-total="{d["total"]}" x="{_coord(left)}" '
           f'y="{y + (ROW - BAR) // 2}" width="{_coord(width)}" height="{BAR}"><title>{escape(tip)}</title></rect>')
    value = f'<text class="value" x="{_coord(max(zero, end) + 4)}" y="{y + ROW - 7}">{_decimal(d["total"])}</text>'
    return label + bar + value


def _axis(totals: list) -> tuple[float, float, float]:
    """A round axis (low, high, tick step) from min(0, lowest) to max(0, highest), in at most 10 steps."""
    lo, hi = min([0, *totals]), max([0, *totals])
    if hi == lo:  # no bars, or all at 0: still an axis
        hi = lo + 100
    step = next(s for s in STEPS if (hi - lo) / s <= 10)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


STEPS = [m * 10 ** k for k in range(-2, 9) for m in (1, 2, 5)]


def _coord(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _legend(departments: list[dict], grades: list[str]) -> str:
    keys = [(g, _grade_class(g, grades)) for g in grades]
    if any(d["rank"] is not None and d["grade"] not in grades for d in departments):
        keys.append(("无等级" if grades else "不评等级", "grade-none"))
    items = "".join(f'<li><span class="swatch {css}"></span>{escape(name)}</li>' for name, css in keys)
    if any(d["rank"] is None for d in departments):
        items += '<li><span class="swatch unranked"></span>未排名（不画条形）</li>'
    return f'<figcaption><ul class="legend">{items}</ul></figcaption>'


# ---------------------------------------------------------------- score report parts

def _score_ranking(ledger: dict, grades: list[str]) -> str:
    """The ranking table of the terminal and the workbook (report.ranking), with links and grade badges."""
    found = ranking(ledger)
    headers = [f"#{h}" if kind in ("rank", "counted", "points", "total") else h  # '#': a column of figures
               for h, kind in zip(found.headers, found.kinds)]
    rows = []
    for index, (row, d) in enumerate(zip(found.rows, ledger["departments"]), 1):
        cells = []
        for value, kind in zip(row, found.kinds):
            if kind == "department":
                cells.append(_td("", f'<a href="#d{index}">{escape(value)}</a>'))
            elif kind == "grade":
                cells.append(_td("", _badge(value, grades)))
            elif kind == "group":
                cells.append(_td(value or "—"))
            elif kind == "rank":
                cells.append(_td(_rank(value), num=True))
            elif kind == "counted":
                cells.append(_td(_part(value), num=True, opt=True))
            elif kind == "total":
                cells.append(_td("", f"<b>{_decimal(value)}</b>", num=True))
            else:
                cells.append(_td(_decimal(value), num=True, opt=True))
        rows.append(_row(*cells, css="unranked" if d["rank"] is None else ""))
    # the first note (rulebook and input) is in the page's header already; on a phone, the parts of the total go
    parts = [i for i, kind in enumerate(found.kinds) if kind in ("counted", "points")]
    return _table(headers, rows, "ranking", parts) + "".join(f'<p class="note">{escape(n)}</p>' for n in found.notes[1:])


def _rank(rank) -> str:
    return "—" if rank is None else str(rank)


def _place(rank) -> str:
    return f"第 {rank} 名" if rank is not None else "未排名"


def _part(found) -> str:
    if not found or not found[1]:
        return "—"
    return f"{_decimal(found[0])}（{found[1]}）"


def _department(index: int, d: dict, grades: list[str], ranges: dict, event_dates, labels: Labels, deducting) -> str:
    rank = _place(d["rank"])
    group = f'<span class="muted">{escape(d["group"])}</span>' if d.get("group") else ""
    # nothing made the total (every item is an indicator beside it): no total to show
    total = "" if not d["lines"] and d.get("indicator_lines") else f'<span class="total">{_decimal(d["total"])}</span>'
    summary = (f'<span class="rank">{rank}</span>{group}<span class="name">{escape(d["department"])}</span>'
               f'{total}{_badge(d["grade"], grades)}'
               f'<span class="muted">办件 {d["cases_scored"]} 件</span>')
    parts = [_criteria(d, ranges)]
    if d.get("categories"):
        parts.append(_weights("各类别小计", ["类别", "#件数", "#小计", "#权重"],
                              [(c["title"], c["cases"], _decimal(c["subtotal"]), plain_number(c["weight"]))
                               for c in d["categories"]]))
    else:
        parts.append(_weights("各类办件平均分", ["办件类别", "#件数", "#平均分", "#权重"],
                              [(r["title"], r["cases"], _decimal(r["mean"]), plain_number(r["weight"])) for r in d["rubrics"]]))
    if d.get("scorers"):
        parts.append(_weights("各评分方", ["评分方", "#得分", "#权重"],
                              [(s["title"], _decimal(s["score"]), plain_number(s["weight"])) for s in d["scorers"]]))
    parts.append(f"<h4>部门得分构成</h4>{_department_lines(d, event_dates, deducting)}")
    if d.get("indicator_lines"):
        indicators = [_line_row(line, line.get("case"), event_dates, deducting) for line in d["indicator_lines"]]
        parts.append(f"<h4>单列指标（不计入总分）</h4>{_lines_table(indicators)}")
    cases = "".join(_case(c, event_dates, labels, deducting) for c in d["cases"])
    parts.append(f'<h4>办件（{len(d["cases"])}）</h4><div class="cases">{cases}</div>')
    return (f'<details class="department" id="d{index}"><summary>{summary}</summary>'
            f'<div class="body">{"".join(parts)}</div></details>\n')


def _criteria(d: dict, ranges: dict) -> str:
    """Points per item against what the item can give: per case (the department's mean) or per department."""
    with_category = any("category" in c for c in d["criteria"])
    titles = {c["category"]: c["title"] for c in d.get("categories", [])}
    rows = []
    for c in d["criteria"]:
        span = ranges.get(c["criterion"])
        cells = ([_td(titles.get(c.get("category"), c.get("category") or "—"))] if with_category else []) + [
            _td(c["criterion"]), _td(c["title"]), _td(_level(c)),
            _td(_decimal(c["points"]), num=True), _td(display.span(span), num=True), _td("", _meter(c["points"], span))]
        rows.append(_row(*cells))
    headers = (["类别"] if with_category else []) + ["项目", "名称", "计分", "#得分", "#分值", "得分率"]
    return "<h4>各项得分</h4>" + _table(headers, rows, "criteria")




def _level(criterion: dict) -> str:
    """How an item is scored: per case (the mean), per department, or beside the total (an indicator)."""
    if criterion.get("in_total") is False:
        return "单列指标"
    return "每件平均" if criterion["level"] == "case" else "部门"


def _meter(points, span) -> str:
    """How much of the item's range the points reach (a deduction item at 0 is full)."""
    if span is None or None in span or span[0] == span[1]:
        return ""
    share = min(max((points - span[0]) / (span[1] - span[0]), 0), 1)
    return f'<span class="meter"><span style="width:{float(share) * 100:.1f}%"></span></span>'


def _weights(title: str, headers: list[str], rows: list[tuple]) -> str:
    body = [_row(_td(first), *(_td(v, num=True) for v in rest)) for first, *rest in rows]
    return f"<h4>{escape(title)}</h4>" + _table(headers, body, "weights")


def _department_lines(d: dict, event_dates, deducting) -> str:
    """The department's own lines; with categories, each category's under its title, then the whole."""
    titles = {c["category"]: c["title"] for c in d.get("categories", [])}
    rows, current = [], None
    for line in d["lines"]:
        if titles and line.get("category") != current:
            current = line.get("category")
            rows.append('<tr class="sub"><th colspan="5">'
                        f'{escape(titles.get(current, current) if current else "合计")}</th></tr>')
        rows.append(_line_row(line, line.get("case"), event_dates, deducting))
    return _lines_table(rows)


def _case(case: dict, event_dates, labels: Labels, deducting) -> str:
    kind = kind_name(labels, case["kind"])
    role = role_name(labels, case["role"])
    total = "不计分" if case["total"] is None else f"{plain_number(case['total'])} 分"
    if case.get("ceiling") is not None:  # a self-check's case
        total += f"（可达 {plain_number(case['ceiling'])} 分）"
    rows = [_line_row(line, case["case"], event_dates, deducting) for line in case["lines"]]
    return (f'<details class="case"><summary><code>{escape(case["case"])}</code>'
            f'<span class="muted">{escape(kind)}·{escape(role)}</span><b>{escape(total)}</b>'
            f'<span class="title">{escape(case["title"])}</span></summary>{_lines_table(rows)}</details>')


def _lines_table(rows: list[str]) -> str:
    return _table(["项目", "类型", "#得分", "说明", "依据"], rows, "lines")


def _line_row(line: dict, case: str | None, event_dates, deducting) -> str:
    rule = f' <code class="rule">{escape(line["rule"])}</code>' if line["rule"] and line["rule"] != line["criterion"] else ""
    kind = line_kind(line, deducting)
    evidence = "".join(f'<span class="ev"><code>{escape(item)}</code>{f" {day.isoformat()}" if day else ""}</span>'
                       for item, day in evidence_events(line, case, event_dates))
    return _row(_td("", escape(line["criterion"] or "—") + rule), _td(kind),
                _td(typeset(signed(line["points"])), num=True), _td(line["text"]), _td("", evidence), css=f"kind-{line['kind']}")


def _decimal(value) -> str:
    """Two decimals, so that columns line up."""
    return typeset(two_decimals(value))


# ---------------------------------------------------------------- bulletin parts

def _bulletin_ranking(departments: list[dict], grades: list[str], final: bool, figure: str, secured: str) -> str:
    grouped = any("group" in d for d in departments)
    headers = (["#排名"] + (["组别"] if grouped else []) + ["部门", "#办件"]
               + ([f"#{figure}", "#较上月", "#升降", "等级"] if final else [f"#{figure}", "#较上月", "#升降", f"#{secured}"])
               + ["上月", "#本月失分项", "#下月到期"])
    rows = []
    for d in departments:
        change, previous = d.get("change"), d.get("previous")
        before = f"{_place(previous['rank'])} · {_decimal(previous['reachable'])}" if previous else "—"
        standing = _td("", _badge(d["grade"], grades)) if final else _td(_decimal(d["secured"]), num=True)
        cells = ([_td(_rank(d["rank"]), num=True)] + ([_td(d.get("group") or "—")] if grouped else [])
                 + [_td(d["department"]), _td(d["cases"], num=True, opt=True),
                    _td("", f"<b>{_decimal(d['reachable'])}</b>", num=True),
                    _td("", _change_total(change), num=True), _td("", _change_rank(change), num=True),
                    standing, _td(before, opt=True), _td(d["missed"], num=True, opt=True),
                    _td(d["due_next_month"], num=True, opt=True)])
        rows.append(_row(*cells, css="unranked" if d["rank"] is None else ""))
    # on a phone: the rank, the department, the figure, its change and the grade (or secured points)
    shift = 1 + grouped
    return _table(headers, rows, "ranking", {shift + 1, shift + 6, shift + 7, shift + 8})


def _change_total(change) -> str:
    if not change or change.get("reachable") is None:
        return "—"
    value = change["reachable"]
    css = "up" if value > 0 else "down" if value < 0 else "same"
    return f'<span class="{css}">{typeset(signed(value, two_decimals))}</span>'


def _change_rank(change) -> str:
    if not change or change.get("rank") is None:
        return "—"
    css = "up" if change["rank"] > 0 else "down" if change["rank"] < 0 else "same"
    return f'<span class="{css}">{rank_move(change)}</span>'


def _deadlines(items: list[dict], headers: list[str], cells, css: str) -> str:
    """Deadlines, one a row: department, case, item, due day, then the cells(item) of the list."""
    if not items:
        return '<p class="note">无。</p>'
    rows = [_row(_td(i["department"]), _td("", f"<code>{escape(i['case'])}</code>"), _td(i["case_title"]),
                 _td(f"{i['criterion']} {i['title']}"), _td("", f'<span class="day">{escape(i["due"])}</span>'), *cells(i))
            for i in items]
    return _table(["部门", "案号", "标题", "事项", "期限", *headers], rows, css)


def _missed(items: list[dict]) -> str:
    return _deadlines(items, ["#已失分", "#仍可挽回", "情况"],
                      lambda i: [_td(plain_number(i["cost"]), num=True),
                                 _td(plain_number(i["recoverable"]) if i["recoverable"] else "—", num=True),
                                 _td(i["record"])], "missed")


def _due(items: list[dict]) -> str:
    return _deadlines(items, ["#剩余工作日", "#分值", "待办"],
                      lambda i: [_td(plain_number(i["workdays_left"]), num=True), _td(plain_number(i["points"]), num=True),
                                 _td(i["missing"])],
                      "due")


# ---------------------------------------------------------------- self-check parts

def _standing(d: dict, grades: list[str]) -> str:
    rows = [_row(_td("已得分（此后不再有任何进展）"), _td("", f"<b>{_decimal(d['floor'])}</b>", num=True),
                 _td("", _badge(d["floor_grade"], grades))),
            _row(_td("可达上限（剩余事项均于次日完成）"), _td("", f"<b>{_decimal(d['ceiling'])}</b>", num=True),
                 _td("", _badge(d["ceiling_grade"], grades)))]
    others = d["decided_by_others"]
    if others:
        deciders = "、".join(sorted({o["decided_by"] for o in others}))
        rows.append(_row(_td(f"仅凭本单位完成剩余事项（{len(others)} 项取决于{deciders}）"),
                         _td(_decimal(d["ceiling_own_steps"]), num=True), _td("")))
    return _table(["", "#分数", "等级"], rows, "standing")


def _self_check_criteria(criteria: list[dict]) -> str:
    rows = [_row(_td(f"{c['category'] + '·' if c.get('category') else ''}{c['criterion']} {c['title']}"),
                 _td(_decimal(c["floor"]), num=True), _td(_decimal(c["ceiling"]), num=True),
                 _td("", _meter(c["floor"], (0, c["ceiling"])) if c["ceiling"] and c["ceiling"] > 0 else ""))
            for c in criteria]
    return _table(["事项", "#已得", "#可达", "已得占可达"], rows, "criteria")


def _self_check_lists(d: dict, labels: Labels) -> list[tuple[str, list[dict], list[tuple]]]:
    """(title, items, columns) of each list of the self-check; a column is (header, cell of an item)."""
    case = ("案号", lambda i: _td("", f"<code>{escape(i['case'])}</code>"))
    item = ("事项", lambda i: _td(f"{i['criterion']} {i['title']}"))
    due = ("期限", lambda i: _td("", f'<span class="day">{escape(i["due"])}</span>'))
    points = ("#分值", lambda i: _td(plain_number(i["points"]), num=True))
    todo = ("待办", lambda i: _td(i["missing"]))
    lists = [("未到期事项（按期限先后）", sorted(d["at_risk"], key=lambda i: (i["due"], -i["points"])),
              [case, item, due, ("#剩余工作日", lambda i: _td(plain_number(i["workdays_left"]), num=True)), points, todo]),
             ("尚无期限的事项", d["undated"], [case, item, points, todo]),
             ("取决于他人的事项", d["decided_by_others"], [case, item, ("取决于", lambda i: _td(i["decided_by"])), points, todo]),
             ("已错过的期限", d["missed"],
              [case, item, due, ("#已失分", lambda i: _td(plain_number(i["cost"]), num=True)),
               ("#仍可挽回", lambda i: _td(plain_number(i["recoverable"]) if i["recoverable"] else "—", num=True)),
               ("情况", lambda i: _td(i["missing"] or i["record"]))]),
             ("缺少的记录，尚未发生或尚未录入", d["missing_evidence"],
              [case, ("缺少", lambda e: _td(event_name(labels, e["event"]))),
               ("影响事项", lambda e: _td("、".join(e["criteria"]))), ("说明", lambda e: _td("；".join(e["missing"])))])]
    if d["not_yet_assigned"]:
        lists.append((f"尚未{assigned_word(labels)}（按全部按时完成计入上限）", d["not_yet_assigned"],
                      [case, ("角色", lambda c: _td(role_name(labels, c["role"]))),
                       ("#可达", lambda c: _td(plain_number(c["ceiling"]), num=True))]))
    return lists


def _items(items: list[dict], columns: list[tuple]) -> str:
    if not items:
        return '<p class="note">无。</p>'
    return _table([header for header, _ in columns], [_row(*(cell(i) for _, cell in columns)) for i in items], "items")


# ---------------------------------------------------------------- style and script

CSS = f"""\
@page {{ size: A4; margin: 14mm 12mm 16mm; @bottom-center {{ content: counter(page) " / " counter(pages); font-size: 8pt; color: #6b7280; }} }}
* {{ box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{ margin: 0 auto; padding: 24px 32px 40px; max-width: 1180px; color: #1f2937; background: #fff;
       font: 14px/1.55 {FONTS}; }}
header {{ border-bottom: 3px solid #9f1d20; padding-bottom: 10px; margin-bottom: 18px; }}
h1 {{ margin: 0 0 6px; font-size: 24px; color: #9f1d20; letter-spacing: 1px; }}
h2 {{ margin: 26px 0 10px; font-size: 18px; padding-left: 8px; border-left: 4px solid #9f1d20; break-after: avoid; }}
h4 {{ margin: 16px 0 6px; font-size: 14px; color: #374151; break-after: avoid; }}
.facts {{ margin: 0; color: #4b5563; font-size: 13px; }}
.facts span + span::before {{ content: "·"; margin: 0 8px; color: #9ca3af; }}
footer {{ margin-top: 32px; padding-top: 8px; border-top: 1px solid #e5e7eb; color: #6b7280; font-size: 12px; }}
.hashes {{ display: block; font-size: 11px; color: #9ca3af; overflow-wrap: anywhere; }}
ul.figures {{ list-style: none; display: flex; flex-wrap: wrap; gap: 6px 10px; padding: 0; margin: 10px 0 0; }}
ul.figures li {{ padding: 3px 10px; border: 1px solid #e5e7eb; border-radius: 4px; background: #f9fafb; font-size: 14px;
                font-weight: 600; font-variant-numeric: tabular-nums; }}
table {{ width: 100%; border-collapse: collapse; margin: 4px 0 8px; font-size: 13px; }}
th, td {{ padding: 4px 8px; border-bottom: 1px solid #e5e7eb; text-align: left; vertical-align: top; overflow-wrap: anywhere; }}
thead th {{ background: #f3f4f6; border-bottom: 1px solid #d1d5db; font-weight: 600; white-space: nowrap; }}
tr {{ break-inside: avoid; }}
thead {{ display: table-header-group; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
table.ranking tbody tr:nth-child(even) {{ background: #fafafa; }}
tr.unranked td {{ color: #6b7280; }}
tr.sub th {{ background: #fbf7f0; text-align: left; font-weight: 600; }}
a {{ color: #1e3a8a; text-decoration: none; }}
a:hover {{ text-decoration: underline; }}
code {{ font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }}
code.rule {{ display: block; color: #6b7280; font-size: 11px; }}
.muted {{ color: #6b7280; font-size: 13px; }}
.note {{ color: #6b7280; font-size: 12px; margin: 2px 0; }}
.badge {{ display: inline-block; min-width: 3.5em; padding: 0 8px; border-radius: 10px; color: #fff; text-align: center;
         background: var(--grade); font-size: 12px; line-height: 20px; white-space: nowrap; }}
.chart-box {{ margin: 0; break-inside: avoid; }}
svg.chart {{ display: block; width: 100%; max-width: 900px; height: auto; font-size: 12px; }}
svg.chart .bar {{ fill: var(--grade); }}
svg.chart .label {{ fill: #1f2937; }}
svg.chart .group {{ fill: #9f1d20; font-weight: 700; }}
svg.chart .value, svg.chart .tick {{ fill: #4b5563; font-size: 11px; }}
svg.chart .unranked {{ fill: #6b7280; font-style: italic; }}
svg.chart .grid {{ stroke: #e5e7eb; stroke-width: 1; }}
.legend {{ list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0; margin: 6px 0 0 150px; font-size: 13px; }}
.swatch {{ display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px; background: var(--grade); }}
.swatch.unranked {{ background: #fff; border: 1px dashed #6b7280; }}
details {{ border: 1px solid #e5e7eb; border-radius: 6px; margin: 6px 0; }}
details > summary {{ cursor: pointer; padding: 6px 10px; list-style-position: inside; break-inside: avoid; break-after: avoid; }}
details > summary > * {{ margin-right: 10px; }}
details[open] > summary {{ background: #f9fafb; border-bottom: 1px solid #e5e7eb; }}
details.department > summary {{ font-size: 15px; }}
details.department .name {{ font-weight: 700; }}
details.department .rank {{ display: inline-block; min-width: 4.5em; color: #4b5563; }}
details.department .total {{ font-weight: 700; font-variant-numeric: tabular-nums; }}
details .body {{ padding: 4px 12px 10px; }}
details.case {{ border-color: #eef0f3; }}
details.case > summary {{ font-size: 13px; padding: 4px 10px; }}
.meter {{ display: inline-block; width: 80px; height: 8px; background: #e5e7eb; border-radius: 4px; overflow: hidden; vertical-align: middle; }}
.meter > span {{ display: block; height: 100%; background: #1e3a8a; }}
.ev {{ display: block; white-space: nowrap; font-size: 12px; }}
td code, .day {{ white-space: nowrap; }}
.up {{ color: #2e7d32; }} .down {{ color: #c62828; }} .same {{ color: #6b7280; }}
.toolbar button {{ font: inherit; font-size: 13px; margin-right: 8px; padding: 2px 12px; border: 1px solid #d1d5db;
                   border-radius: 4px; background: #fff; cursor: pointer; }}
table.lines th:nth-child(1) {{ width: 8em; }}
table.lines th:nth-child(2), table.lines th:nth-child(3) {{ width: 4.5em; }}
table.lines th:nth-child(5) {{ width: 13em; }}
table.criteria, table.weights {{ width: auto; min-width: 55%; }}
@media screen and (max-width: 600px) {{
  body {{ padding: 12px 10px 24px; }}
  h1 {{ font-size: 20px; }}
  .opt {{ display: none; }}
  table.missed, table.due, table.lines, table.items, table.criteria, table.weights {{ display: block; overflow-x: auto; }}
  .legend {{ margin-left: 0; }}
}}
@media print {{
  body {{ padding: 0; max-width: none; font-size: 10pt; }}
  h1 {{ font-size: 18pt; }}
  h2 {{ font-size: 13pt; }}
  table {{ font-size: 9pt; }}
  .no-print {{ display: none; }}
  details {{ border: none; }}
  details > summary {{ list-style: none; }}
  details > summary::-webkit-details-marker {{ display: none; }}
  details.department {{ border-top: 1px solid #d1d5db; border-radius: 0; }}
  a {{ color: inherit; }}
}}
"""  # noqa: E501 - the style sheet goes into the page as written: wrapping its two long rules would change the HTML

SCRIPT = """\
// optional: "expand all", print, and open the department a link points at
document.addEventListener("click", function (event) {
  var button = event.target.closest("button");
  if (!button) return;
  if (button.hasAttribute("data-print")) { window.print(); return; }
  var open = button.getAttribute("data-open") === "all";
  document.querySelectorAll("details").forEach(function (d) { d.open = open; });
});
function openTarget() {
  var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  if (target && target.tagName === "DETAILS") target.open = true;
}
window.addEventListener("hashchange", openTarget);
openTarget();
"""
