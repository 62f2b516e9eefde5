"""What people read in a terminal: the ranking table and a department's explained ledger.

Both are rendered from the ledger dict (the same data as the JSON output), so what the
table shows and what the JSON says cannot differ. Chinese text is aligned by display width
(tabulate measures it with wcwidth).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tabulate import tabulate
from wcwidth import wcswidth

from scoring.base.i18n import N_, _
from scoring.lang.interval import format_interval
from scoring.lang.values import round_half_up
from scoring.ledger.labels import Labels, assigned_word, event_name, kind_name, role_name

from .bulletin import figure_names
from .bulletin import tables as bulletin_tables
from .display import NONE, plain_number, signed, two_decimals
from .terminal import fitted, left_out_note, wrapped

if TYPE_CHECKING:  # the results' shape; renderers never load what made them
    from scoring.app.results import ExplainResult, ReplayResult, SelfCheckResult, VerifyResult



MAX_NAMED_ITEMS = 5  # department items whose titles fit in the table's header


@dataclass
class Ranking:
    """The ranking as cells, for the terminal table here, the workbook and the HTML page.

    A cell is a number, text or None (shown "—"); in a "counted" column it is (points, cases)."""

    headers: list[str]
    kinds: list[str]  # per column: rank, group, department, counted, points, total or grade
    rows: list[list]
    notes: list[str]  # what the columns mean, under the table


def ranking(ledger: dict) -> Ranking:
    """Per department its rank, the parts of its total, the total and grade.

    The parts are the rubric means, the base and the department items; with categories the
    category subtotals instead (each has its own base and items, see `explain`); with several
    scorers each scorer's score too.
    """
    departments = ledger["departments"]
    first = departments[0] if departments else {"rubrics": [], "criteria": []}
    grouped = "group" in first
    # every category some department has cases in, in the order first seen
    categories = list({c["category"]: c["title"] for d in departments for c in d.get("categories", [])}.items())
    scorers = [(s["scorer"], s["title"]) for s in first.get("scorers", [])]
    if categories:
        rubric_titles, items = [], []
        parts = [title for _, title in categories]
        kinds = ["counted"] * len(parts)
    else:
        rubric_titles = [r["title"] for r in first["rubrics"]]
        items = [c for c in first["criteria"] if c["level"] == "department"]
        with_base = bool(rubric_titles) or any(d["base"] for d in departments)
        # many items: their ids head the columns and a legend under the table names them
        named = len(items) <= MAX_NAMED_ITEMS
        parts = rubric_titles + (["基础分"] if with_base else []) + [
            f"{c['criterion']} {c['title']}" if named else c["criterion"] for c in items]
        kinds = ["counted"] * len(rubric_titles) + ["points"] * (len(parts) - len(rubric_titles))
    # ranked by an item and nothing made any total: the total and grade columns would read 0 and —
    no_total = bool(first.get("rank_by")) and not any(d["lines"] for d in departments)
    ends = [] if no_total else ["总分", "等级"]
    headers = ["排名"] + (["组别"] if grouped else []) + ["部门"] + parts + [title for _, title in scorers] + ends
    kinds = (["rank"] + ["group"] * grouped + ["department"] + kinds + ["points"] * len(scorers)
             + ([] if no_total else ["total", "grade"]))
    rows = []
    for d in departments:
        if categories:
            subtotals = {c["category"]: c for c in d.get("categories", [])}
            cells = [(subtotals[c]["subtotal"], subtotals[c]["cases"]) if c in subtotals else None for c, _ in categories]
        else:
            points = {c["criterion"]: c["points"] for c in d["criteria"]}
            cells = ([(r["mean"], r["cases"]) if r["cases"] else None for r in d["rubrics"]]
                     + ([d["base"]] if with_base else []) + [points.get(c["criterion"], 0) for c in items])
        cells += [s["score"] for s in d.get("scorers", [])]
        rows.append([d["rank"]] + ([d["group"]] if grouped else []) + [d["department"]] + cells
                    + ([] if no_total else [d["total"], d["grade"]]))
    book, source = ledger["rulebook"], ledger["input"]
    notes = [f"{rulebook_line(book)} · 办件 {source['cases']} 件、承办记录 {source['handlers']} 条"]
    if "period" in source:
        notes.append(period_note(source["period"]))
    if items and not named:
        notes.append("；".join(f"{c['criterion']} {c['title']}" for c in items) + "。")
    if categories:
        notes.append("括号内为件数；各类别小计按权重计入总分（缺少某类办件的，按其余类别的权重折算），明细见 explain。")
    elif any(r["weight"] is not None for r in first["rubrics"]):
        notes.append("括号内为件数；基础分为各类办件平均分的加权值。")
    elif rubric_titles:
        notes.append("括号内为件数；基础分的算法见 explain 的基础分一行。")
    outside = [c for c in items if c.get("in_total") is False]
    if outside:
        notes.append("、".join(c["criterion"] for c in outside) + "为单列指标，不计入总分。")
    by = first.get("rank_by")
    if by is not None:
        title = next((c["title"] for c in first["criteria"] if c["criterion"] == by), "")
        notes.append(f"排名按 {by} {title}的得分（保留两位小数）排列，不按总分。")
    if scorers:
        notes.append("总分 = " + " + ".join(f"{s['title']}×{plain_number(s['weight'])}" for s in first["scorers"]) + "。")
    if grouped:
        notes.append("排名在各组别内计算。")
    if any(d["rank"] is None for d in departments):
        notes.append("排名为“—”的，办件数不足排名所需件数" + ("。" if by is None else f"，或没有计入 {by} 的办件。"))
    if source["skipped"]:
        notes.append(skipped_note(source["skipped"]))
    if "exclusions" in ledger:
        notes.append(exclusions_note(ledger["exclusions"]))
    return Ranking(headers, kinds, rows, notes)


DECISION_NAMES = {("exclusion", "approved"): "剔除申请·已批准", ("exclusion", "rejected"): "剔除申请·未批准",
                  ("appeal", "upheld"): "申诉·成立", ("appeal", "rejected"): "申诉·不成立"}


def exclusions_note(exclusions: dict) -> str:
    decisions = exclusions["decisions"]
    granted = [d for d in decisions if d["decision"] != "rejected"]
    return (f"经审定不计入考核的办件 {len(granted)} 项（剔除或申诉成立，涉及 {len(exclusions['effect'])} 个部门），"
            f"未获批准 {len(decisions) - len(granted)} 项；各部门剔除前后的得分见 explain。")


def exclusion_lines(exclusions: dict) -> list[str]:
    """A department's decisions, and its total and rank with and without the granted ones."""
    out = ["剔除与申诉："]
    for d in exclusions["decisions"]:
        whom = "" if d["department"] is None else f"{d['department']} "
        out.append(f"  {d['case']}  {whom}{DECISION_NAMES[(d['kind'], d['decision'])]}  {d['reason']}"
                   f"（{d['decided_by']} {d['decided_on']}）")
    for e in exclusions["effect"]:
        now = "无办件计分" if e["total"] is None else f"总分 {two_decimals(e['total'])}、排名 {e['rank'] or '—'}"
        without = "无办件计分" if e["total_without"] is None else \
            f"总分 {two_decimals(e['total_without'])}、排名 {e['rank_without'] or '—'}"
        out.append(f"  不计入考核 {e['excluded']} 件：{now}；全部计入则{without}。")
    return out + [""]


def rulebook_line(book: dict) -> str:
    """Which rules made a document, as a reader names them: "规则 id version" at the head of every report."""
    return f"规则 {book['id']} {book['version']}"


def period_note(period: dict) -> str:
    """A quarter's or a month's ledger: which cases it scored, as of when, and how many of the file it left out."""
    return (f"考核期 {period['period']}：{period['first']}至{period['last']}交办的办件，截至 {period['ends']}；"
            f"期外交办的 {period['outside']} 件未计入。")


def hashes_line(book: dict, source: dict) -> str:
    """What an auditor checks a document against, at the foot of every report: the rulebook's and the input's sha256."""
    return f"规则 sha256 {book['sha256'][:12]} · 输入 sha256 {source['sha256'][:12]}"


def rate_text(rate, space: str = " ") -> str:
    """A pooled rate (scoring.app.figures.PooledRate) as quoted: "面商率 68.0%（153/225）", one decimal rounded
    half up from the exact rate; "—" when no case counts. `space` after the name: none in running text."""
    if not rate.cases:
        return f"{rate.name}{space}{NONE}（无计入件）"
    return f"{rate.name}{space}{round_half_up(rate.rate * 100, 1)}%（{_count(rate.hits)}/{_count(rate.cases)}）"


def _count(value) -> str:
    """A rate's count: whole numbers with thousands separators; a ratio of sums may pool fractions."""
    return f"{int(value):,}" if value == int(value) else plain_number(value)


def figures_parts(figures) -> list[str]:
    """The figures a report opens with (scoring.app.figures.Figures): the cases, the departments, every rate."""
    return [f"办件 {figures.cases:,} 件", f"部门 {figures.departments} 个"] + [rate_text(r) for r in figures.rates]


def figures_line(figures) -> str:
    return "合计  " + " · ".join(figures_parts(figures))


def ranking_table(ledger: dict, width: int | None = None, figures=None) -> str:
    """The ranking as a terminal table, with its notes under it, opened by the pooled figures (when given) and
    closed by the hashes; on a terminal `width` wide, the department's name wraps and the parts of the total
    are left out from the last, never the rank, the department, the total or the grade."""
    found = ranking(ledger)

    def cell(value, column: int) -> str:
        kind = found.kinds[column]
        if value is None:
            return "—"
        if kind == "counted":
            return f"{two_decimals(value[0])} ({value[1]})"
        return two_decimals(value) if kind in ("points", "total") else str(value)

    rows = [[cell(value, i) for i, value in enumerate(row)] for row in found.rows]
    align = ["left" if kind in ("group", "department", "grade") else "right" for kind in found.kinds]
    parts = [c for c, kind in enumerate(found.kinds) if kind in ("counted", "points")]
    table, left_out = fitted(found.headers, rows, align, width, wrap={found.kinds.index("department"): 16},
                             drop=tuple(reversed(parts)))
    head = "\n".join(wrapped([figures_line(figures)], width)) + "\n\n" if figures is not None else ""
    foot = [hashes_line(ledger["rulebook"], ledger["input"])]
    return head + table + "\n\n" + "\n".join(wrapped(left_out_note(left_out, width) + found.notes + foot, width)) + "\n"


def combined_table(document: dict, width: int | None = None) -> str:
    """A year made of its periods: per department the total of each period (— without cases in it), the combined
    total, grade and rank; under it how the totals were combined and every period's ledger."""
    labels = [p["period"] for p in document["periods"]]
    headers = ["排名", "部门"] + labels + ["总分", "等级"]
    rows = []
    for d in sorted(document["departments"], key=lambda d: (d["rank"] is None, d["rank"] or 0)):
        totals = {p["period"]: p["total"] for p in d["periods"]}
        rows.append([str(d["rank"]) if d["rank"] is not None else "—", d["department"]]
                    + [two_decimals(totals[label]) if label in totals else "—" for label in labels]
                    + [two_decimals(d["total"]), d["grade"] or "—"])
    align = ["right", "left"] + ["right"] * (len(labels) + 1) + ["left"]
    table, left_out = fitted(headers, rows, align, width, wrap={1: 16}, drop=tuple(range(len(labels) + 1, 1, -1)))
    method = {"sum": "各期得分之和", "mean": "各期得分之平均", "last": "最后一期的得分",
              "expression": f"按 {document['expression']} 计算"}[document["method"]]
    notes = [f"{rulebook_line(document['rulebook'])} · {document['year']}年 {len(labels)} 个考核期合成：{method}"
             "（各部门只计其有办件的考核期；各期得分为该期账本公布的得分）。"]
    if document["without_cases"]:
        notes.append("无办件的考核期：" + "、".join(document["without_cases"]) + "。")
    if document["outside_every_period"]:
        notes.append(f"不属于任何考核期的办件 {document['outside_every_period']} 件未计入。")
    if any(d["rank"] is None for d in document["departments"]):
        notes.append("排名为“—”的，各期办件合计不足排名所需件数。")
    notes += [f"{p['period']}：办件 {p['cases']} 件，截至 {p['ends']}，账本 sha256 {p['ledger_sha256'][:12]}"
              + (f"，运行 {p['run']}" if p["run"] else "") for p in document["periods"]]
    notes.append(f"规则 sha256 {document['rulebook']['sha256'][:12]} · 办件文件 sha256 {document['cases_file_sha256'][:12]}")
    return table + "\n\n" + "\n".join(wrapped(left_out_note(left_out, width) + notes, width)) + "\n"


def explain(result: ExplainResult) -> str:
    """A department's ledger line by line, each line's evidence with its date."""
    ledger, department, event_dates, case_id = result.ledger, result.department, result.event_dates, result.case
    out = []
    if case_id is None:
        rank = department["rank"] if department["rank"] is not None else "未排名"
        if not department["lines"] and department.get("indicator_lines"):  # every item an indicator: no total
            out.append(f"{department['department']}  排名 {rank}（按{department.get('rank_by')}）")
        else:
            out.append(f"{department['department']}  总分 {two_decimals(department['total'])}  "
                       f"等级 {department['grade'] or '—'}  排名 {rank}")
        out.append(f"规则 {ledger['rulebook']['id']} {ledger['rulebook']['version']}")
        out.append("")
    exclusions = result.document().get("exclusions")
    if exclusions and exclusions["decisions"]:
        out += exclusion_lines(exclusions)
    out += explain_lines(department, event_dates, result.labels, case_id, result.deducting_items)
    return "\n".join(out).rstrip() + "\n"


def explain_lines(department: dict, event_dates, labels: Labels, case_id: str | None = None,
                  deducting=frozenset()) -> list[str]:
    """The department's own lines (unless one case is asked for), then each case's lines; `deducting`: the items
    whose rules only deduct (what an "otherwise" line of an item means, see line_kind)."""
    out = []
    if case_id is None:
        if department["lines"] or not department.get("indicator_lines"):
            out.append("部门得分构成：")
        titles = {c["category"]: c["title"] for c in department.get("categories", [])}
        current = None
        for line in department["lines"]:
            if titles and line.get("category") != current:  # each category's subtotal under its title, then the whole
                current = line.get("category")
                out.append(f" {titles.get(current, current)}：" if current else " 合计：")
            out.append(_line_text(line, line.get("case"), event_dates, deducting))
        if department["lines"] or not department.get("indicator_lines"):
            out.append("")
        if department.get("indicator_lines"):
            out.append("单列指标（不计入总分）：")
            out += [_line_text(line, line.get("case"), event_dates, deducting) for line in department["indicator_lines"]]
            out.append("")
    cases = [c for c in department["cases"] if case_id is None or c["case"] == case_id]
    for case in cases:
        role = role_name(labels, case["role"])
        total = "不计分" if case["total"] is None else f"{plain_number(case['total'])}分"
        if case.get("ceiling") is not None:
            total += f"（可达{plain_number(case['ceiling'])}分）"
        out.append(f"{case['case']}  {kind_name(labels, case['kind'])}·{role}  {total}  {case['title']}")
        for line in case["lines"]:
            out.append(_line_text(line, case["case"], event_dates, deducting))
        if case_id is not None:
            for line in department["lines"]:
                if line.get("case") == case_id:
                    out.append(_line_text(line, case_id, event_dates, deducting) + "  （计入部门得分）")
            for line in department.get("indicator_lines", []):
                if line.get("case") == case_id:
                    out.append(_line_text(line, case_id, event_dates, deducting) + "  （计入单列指标，不计入总分）")
        out.append("")
    return out


AT_RISK_ORDER = {  # how the items not yet due are listed: the title, and the order (the document's is by points)
    "points": ("未到期事项，分值高者在前", None),
    "deadline": ("未到期事项，期限近者在前", lambda i: (i["due"], -i["points"])),
}


def self_check(result: SelfCheckResult, order: str = "points") -> str:
    """The self-assessment as a department reads it: where it stands, then what is at stake (the items
    not yet due by points, or by the nearest deadline)."""
    d, event_dates = result.document, result.event_dates
    book, source = d["rulebook"], d["input"]
    out = [f"{d['department']}  自查  截至 {d['as_of']}",
           f"{rulebook_line(book)} · 已{assigned_word(result.labels)} {source['cases']} 件", ""]
    others = d["decided_by_others"]
    out.append(f"已得分（此后不再有任何进展）  {two_decimals(d['floor'])}  {d['floor_grade'] or '—'}")
    out.append(f"可达上限（剩余事项均于次日完成）  {two_decimals(d['ceiling'])}  {d['ceiling_grade'] or '—'}")
    if others:
        deciders = "、".join(sorted({o["decided_by"] for o in others}))
        out.append(f"  其中 {len(others)} 项取决于他人（{deciders}）；"
                   f"仅凭本单位完成剩余事项可达 {two_decimals(d['ceiling_own_steps'])}")
    out.append("")
    rows = [[f"{c['category'] + '·' if c.get('category') else ''}{c['criterion']} {c['title']}",
             two_decimals(c["floor"]), two_decimals(c["ceiling"])]
            for c in d["criteria"]]
    out.append(tabulate(rows, headers=["事项", "已得", "可达"], tablefmt="simple", colalign=["left", "right", "right"],
                        disable_numparse=True))

    def section(title: str, rows: list, headers: list[str], empty: str):
        out.extend(["", f"{title}（{len(rows)}）" if rows else f"{title}：{empty}"])
        if rows:
            out.append(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))

    title, key = AT_RISK_ORDER[order]
    at_risk = d["at_risk"] if key is None else sorted(d["at_risk"], key=key)  # sorted keeps ties in the document's order
    section(title, [[i["case"], f"{i['criterion']} {i['title']}", i["due"], plain_number(i["workdays_left"]),
                     plain_number(i["points"]), i["missing"]] for i in at_risk],
            ["案号", "事项", "期限", "剩余工作日", "分值", "待办"], "无")
    section("尚无期限的事项", [[i["case"], f"{i['criterion']} {i['title']}", plain_number(i["points"]), i["missing"]]
                             for i in d["undated"]], ["案号", "事项", "分值", "待办"], "无")
    section("取决于他人的事项", [[i["case"], f"{i['criterion']} {i['title']}", i["decided_by"], plain_number(i["points"]),
                                i["missing"]] for i in others],
            ["案号", "事项", "取决于", "分值", "待办"], "无")
    section("已错过的期限", [[i["case"], f"{i['criterion']} {i['title']}", i["due"], plain_number(i["cost"]),
                            plain_number(i["recoverable"]) if i["recoverable"] else "—", i["missing"] or i["record"]]
                           for i in d["missed"]], ["案号", "事项", "期限", "已失分", "仍可挽回", "情况"], "无")
    section("缺少的记录，尚未发生或尚未录入",
            [[e["case"], event_name(result.labels, e["event"]), "、".join(e["criteria"]), "；".join(e["missing"])]
             for e in d["missing_evidence"]], ["案号", "缺少", "影响事项", "说明"], "无")
    if d["not_yet_assigned"]:
        section(f"尚未{assigned_word(result.labels)}（按全部按时完成计入上限）",
                [[c["case"], role_name(result.labels, c["role"]), plain_number(c["ceiling"])] for c in d["not_yet_assigned"]],
                ["案号", "角色", "可达"], "")
    if d["uncovered_years"]:
        years = "、".join(map(str, d["uncovered_years"]))
        out += ["", f"注：工作日历尚未覆盖 {years} 年，期限在该年的事项未计剩余工作日"
                    f"（可在规则文件的 [calendar.years.{d['uncovered_years'][0]}] 中定义该年）。"]
    out += ["", f"各件明细（截至 {d['as_of']}，括号内为可达分）", ""]
    out += explain_lines(d, event_dates, result.labels, deducting=result.deducting_items)
    return "\n".join(out).rstrip() + "\n\n" + hashes_line(book, source) + "\n"


def bulletin(document: dict, width: int | None = None, figures=None, labels: Labels | None = None) -> str:
    """The monthly bulletin as circulated: the pooled figures (when given), the ranking and its movement, then
    the deadlines missed and coming, the hashes last; on a terminal `width` wide, names and texts wrap and
    the counts are left out first."""
    d = document
    book, source = d["rulebook"], d["input"]
    head = [f"{d['month']} 月度通报  截至 {d['as_of']}（较上月 {d['previous_as_of']}）",
            f"{rulebook_line(book)} · 截至月末已{assigned_word(labels or {})} {source['cases']} 件"]
    out = wrapped(head + ([figures_line(figures)] if figures is not None else []) + [""], width)
    ranking, *deadlines = bulletin_tables(d)
    out += _tabulate(ranking, width, drop=FIRST_LEFT_OUT) + [""] + wrapped(bulletin_notes(d), width)
    for table in deadlines:
        out += ["", table.title if table.rows else table.empty]
        if table.rows:
            out += _tabulate(table, width, drop=FIRST_LEFT_OUT)
    out += [""] + wrapped([hashes_line(book, source)], width)
    return "\n".join(out) + "\n"


TEXT_CELLS = {"rank": plain_number, "move": lambda change: rank_move(change), "group": lambda v: v or NONE,
              "text": lambda v: NONE if v is None else str(v), "points": two_decimals,
              "delta": lambda v: NONE if v is None else _delta(v), "count": str, "amount": plain_number,
              "day": lambda v: v}
RIGHT = {"rank", "points", "delta", "count", "amount"}


# the bulletin's columns a narrow terminal does without, first to last
FIRST_LEFT_OUT = ("下月到期", "本月失分项", "办件", "仍可挽回", "分值", "期限", "升降")
WRAPPED = {"text": 16}  # text columns wrap at eight Chinese characters, narrower only when they must


def _tabulate(table, width: int | None = None, drop: tuple[str, ...] = ()) -> list[str]:
    """A table of cells (reports.bulletin.Table) for the terminal: numbers to the right; fitted to a
    terminal `width` wide by wrapping its text and leaving out the `drop` columns, in that order."""
    rows = [[TEXT_CELLS[kind](value) for kind, value in zip(table.kinds, row)] for row in table.rows]
    text, left_out = fitted(table.headers, rows, ["right" if kind in RIGHT else "left" for kind in table.kinds], width,
                            wrap={c: WRAPPED[kind] for c, kind in enumerate(table.kinds) if kind in WRAPPED},
                            drop=tuple(table.headers.index(h) for h in drop if h in table.headers))
    return [text] + wrapped(left_out_note(left_out, width), width)


def bulletin_notes(document: dict) -> list[str]:
    """What the bulletin's figures mean and what it cannot see: under its table, in text and HTML alike."""
    d = document
    by = d.get("rank_by")
    if by is not None:  # ranked by an item: its points, as they stand and as they can still be
        figure, secured = figure_names(d)
        notes = [f"按{by['criterion']} {by['title']}排名（规则的 [ranking] by），不按总分。"
                 + ("考核截止，排名为考核结果（与 score 相同）；“较上月”为较上月月末可达值的变化。" if d["final"] else
                    f"{figure}：已经失去的不再计入，尚未到期的事项按期完成计；{secured}为此后不再有任何进展时的值。")]
    elif d["final"]:
        notes = ["考核截止，排名为考核结果（与 score 相同）；“较上月”为较上月月末可达分的变化。"]
    else:
        notes = ["按可达分排名：已经失去的分数不再计入，尚未到期的事项按期完成计（各单位自查的可达上限）；"
                 "已得分为此后不再有任何进展时的得分。等级在考核截止时评定，月度通报不评等级。"]
    notes.append("“升降”为较上月排名的变化，上月或本月未排名的为“—”。")
    if any("group" in r for r in d["departments"]):
        notes.append("排名在各组别内计算。")
    if any(r["rank"] is None for r in d["departments"]):
        notes.append("排名为“—”的，办件数不足排名所需件数。")
    if not d["dated_items"]:
        notes.append("本规则的事项均未规定期限（due），不列到期事项。")
    elif d["untracked"]:
        items = "、".join(f"{u['criterion']} {u['title']}" for u in d["untracked"])
        notes.append(f"{items} 规定了期限但未规定完成它的办理步骤（step），无法判定是否到期未办，未列入下列清单。")
    if d["input"]["skipped"]:
        notes.append(skipped_note(d["input"]["skipped"]))
    return notes


def skipped_note(skipped: list[dict]) -> str:
    return f"已跳过 {len(skipped)} 件：" + "、".join(str(s["case"] or f"第{s['line']}行") for s in skipped)


def rank_move(change: dict | None) -> str:
    """↑2, ↓1, 持平 (unchanged), or — (no rank to compare with)."""
    if not change or change.get("rank") is None:
        return "—"
    if not change["rank"]:
        return "持平"
    return f"↑{change['rank']}" if change["rank"] > 0 else f"↓{-change['rank']}"


# what each kind of ledger line is; a line without an item is labelled by its kind ("otherwise": see line_kind)
LINE_KINDS = {"rule": "规则", "cap": "封顶", "floor": "保底", "multiplier": "系数", "rate": "比率",
              "base": "基础分", "clamp": "限定", "weight": "权重", "scorer": "评分", "gate": "约束"}


def line_kind(line: dict, deducting=frozenset()) -> str:
    """What a line is, in the words of a score sheet. A line "otherwise" (no rule of its item fired) is good news
    on an item that only deducts (未扣分: nothing was taken) and bad news on one that awards (未得分: the points
    were not earned); `deducting` names the former (scoring.app.results.Scored.deducting_items). Should an
    "otherwise" line ever carry points, they say which it is."""
    if line["kind"] != "otherwise":
        return LINE_KINDS.get(line["kind"], line["kind"])
    if line["points"]:
        return "得分" if line["points"] > 0 else "扣分"
    return "未扣分" if line["criterion"] in deducting else "未得分"


def _line_text(line: dict, case: str | None, event_dates, deducting=frozenset()) -> str:
    points = line["points"]
    label = line["criterion"] or line_kind(line, deducting)
    rule = f" [{line['rule']}]" if line["rule"] and line["rule"] != line["criterion"] else ""
    evidence = evidence_labels(line, case, event_dates)
    tail = f"  （依据 {', '.join(evidence)}）" if evidence else ""
    text = line["text"]
    if line["kind"] == "otherwise":  # an item's id says which item, not whether its 0 is good or bad
        text = f"（{line_kind(line, deducting)}）{text}"
    return f"  {label:<4}{rule} {signed(points)}分  {text}{tail}"


def evidence_events(line: dict, case: str | None, event_dates) -> list[tuple[str, dt.date | None]]:
    """The line's evidence events with their dates; "case/event" names another case's event (department lines)."""
    found = []
    for item in line["evidence"]:
        owner, _, event = item.rpartition("/")
        found.append((item, event_dates.get((owner or case, event))))
    return found


def evidence_labels(line: dict, case: str | None, event_dates) -> list[str]:
    """The evidence as text: "e12@2020-03-31" (another case's: "2020-J0001/e3@...")."""
    return [f"{item}@{day.isoformat()}" if day else item for item, day in evidence_events(line, case, event_dates)]


CHANGE_NAMES = {"added": "新增", "removed": "删除", "changed": "修改", "order": "顺序"}


def impact(document: dict) -> str:
    """A scoring-diff/1 document: rule changes, then departments, items and case lines that moved."""
    a, b = document["a"], document["b"]
    out = [f"A  {_side(a)}", f"B  {_side(b)}",
           "输入相同（sha256 " + a["input"]["sha256"][:12] + "）" if document["same_input"]
           else f"输入不同：A {a['input']['sha256'][:12]}，B {b['input']['sha256'][:12]}", ""]
    changes = document["rulebook_changes"]
    if changes is None:
        out.append("规则变化：未知（比较的是账本文件，不含规则全文；比较已记录的运行可列出规则变化）")
    elif not changes:
        out.append("规则变化：无")
    else:
        out.append(f"规则变化（{len(changes)}）：")
        for change in changes:
            if change["change"] == "order":
                detail = f"{', '.join(change['old'])} → {', '.join(change['new'])}"
            elif change["change"] == "changed":
                detail = f"{_brief(change['old'])} → {_brief(change['new'])}"
            else:
                detail = _brief(change["new"] if change["change"] == "added" else change["old"])
            out.append(f"  {CHANGE_NAMES[change['change']]}  {change['path']}: {detail}")
    summary = document["summary"]
    out += ["", f"部门：{summary['departments_total_changed']}/{summary['departments']} 个总分变化，"
                f"{summary['cases_changed']} 件办件、{summary['lines_changed']} 条账目变化"]
    rows = [[d["department"], two_decimals(d["old_total"]), two_decimals(d["new_total"]), _delta(d["delta"]),
             _arrow(d["old_grade"], d["new_grade"]), _arrow(d["old_rank"], d["new_rank"])] for d in document["departments"]]
    out.append(tabulate(rows, headers=["部门", "原总分", "新总分", "变化", "等级", "排名"], tablefmt="simple",
                        colalign=["left", "right", "right", "right", "left", "left"], disable_numparse=True))
    items = [[d["department"], f"{c['criterion']} {c['title']}", plain_number(c["old"]), plain_number(c["new"]),
              _delta(c["delta"])]
             for d in document["departments"] for c in d["criteria"]]
    if items:
        out += ["", "各项变化：", tabulate(items, headers=["部门", "项目", "原分", "新分", "变化"], tablefmt="simple",
                                       colalign=["left", "left", "right", "right", "right"], disable_numparse=True)]
    lines = []
    for d in document["departments"]:
        for line in d["lines"]:
            lines.append(_changed_line(d["department"], line.get("case") or "", line))
        for case in d["cases"]:
            for line in case["lines"]:
                lines.append(_changed_line(d["department"], case["case"], line))
    if lines:
        out += ["", "账目变化：", tabulate(lines, headers=["部门", "案号", "规则", "原分", "新分", "说明"], tablefmt="simple",
                                       colalign=["left", "left", "left", "right", "right", "left"], disable_numparse=True)]
    return "\n".join(out) + "\n"


def _side(side: dict) -> str:
    book = side["rulebook"]
    return f"{side['label']}: {book['id']} {book['version']} (规则 sha256 {book['sha256'][:12]})"


def _changed_line(department: str, case: str, line: dict) -> list:
    rule = line["rule"] or line["criterion"] or ""
    if line.get("old_rule"):
        rule = f"{line['old_rule']} → {rule}"
    text = line["new_text"] if line["new_text"] is not None else f"（删除）{line['old_text']}"
    return [department, case, rule, plain_number(line["old_points"]), plain_number(line["new_points"]), text]


def _delta(value) -> str:
    """A change in a table of changes: "0" when there is none."""
    return signed(value, two_decimals) if value else "0"


def _arrow(old, new) -> str:
    old, new = "—" if old is None else str(old), "—" if new is None else str(new)
    return old if old == new else f"{old} → {new}"


def _brief(value, width: int = 90) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------- audit and rule checks
def runs_table(entries: list[dict]) -> str:
    """`runs list`: one row per recorded run (scoring.audit.runs.summary)."""
    rows = [[e["id"], e["seq"], e["recorded_at"], f"{e['rulebook']['id']} {e['rulebook']['version']}",
             e["input"]["sha256"][:12], e["input"]["cases"], e["replayed_from"] or ""] for e in entries]
    headers = [_("run"), "#", _("recorded (UTC)"), _("rulebook"), _("input sha256"), _("cases"), _("replay of")]
    return tabulate(rows, headers=headers,
                    tablefmt="simple", disable_numparse=True) + "\n"


def run_details(run, ledger: dict) -> str:
    """`runs show`: what a run scored, with what, by which engine, and its ranking."""
    r = run.record
    book, source = r["rulebook"], r["input"]
    lines = [_field(N_("run"), f"{run.id} (#{run.seq})"), _field(N_("hash"), run.hash),
             _field(N_("previous"), str(r["previous"])), _field(N_("recorded"), r["recorded_at"]),
             _field(N_("engine"), f"scoring {r['engine']['scoring']}, durable_rules {r['engine']['durable_rules']}"),
             _field(N_("command"), " ".join(r["command"])),
             _field(N_("rulebook"), f"{book['id']} {book['version']}  sha256 {book['sha256']}"),
             _field(N_("base"), f"{book['base']['name']}  sha256 {book['base']['sha256']}", indent=2)]
    lines += [_field(N_("overlay"), f"{o['name']}  sha256 {o['sha256']}", indent=2) for o in book["overlays"]]
    lines += [_field(N_("set"), item, indent=2) for item in book["set"]]
    lines += [_field(N_("input"), source["name"] + "  " + _("{cases} cases, {handlers} handlers, {skipped} skipped").format(
                  cases=source["cases"], handlers=source["handlers"], skipped=source["skipped"])),
              _field("sha256", source["sha256"] + " " + _("(cases, in any order)"), indent=2),
              _field(N_("file"), source["file_sha256"] + " " + _("(the bytes as read)"), indent=2),
              _field(N_("options"), f"skip_invalid={str(r['options']['skip_invalid']).lower()}"),
              _field(N_("ledger"), f"{r['ledger']['format']}  sha256 {r['ledger']['sha256']}")]
    if r["replayed_from"]:
        lines.append(_field(N_("replay of"), r["replayed_from"]))
    return "\n".join(lines) + "\n\n" + ranking_table(ledger)


def _field(name: str, value: str, indent: int = 0) -> str:
    """A line of `runs show`: the name in the current language, padded to one column, then the value."""
    shown = " " * indent + _(name)
    return shown + " " * max(1, 13 - wcswidth(shown)) + value


def verification(result: VerifyResult) -> str:
    """`verify`: confirmed, or every difference between the points claimed and the points found."""
    note = engine_note(result.claimed, result.found)
    if result.confirmed:
        what = _("the same ledger, byte for byte") if result.byte_identical else _("the same points; ") + note.strip()
        return _("confirmed: {ledger}: scoring again gives {what}").format(ledger=result.ledger, what=what) + "\n"
    table = [[r["department"] or "", r["case"] or "", r["criterion"] or "", r["rule"] or "", _difference_name(r["what"]),
              _cell(r["claimed"]), _cell(r["found"]), r["text"] or ""] for r in result.differences]
    return (_("NOT confirmed: {ledger}: {n} difference(s) between the points claimed and the points found").format(
        ledger=result.ledger, n=len(result.differences)) + f"\n{note}\n"
            + tabulate(table, headers=["部门", "案号", "项目", "规则", "差异", "声称", "核实", "说明"],
                       tablefmt="simple", disable_numparse=True) + "\n")


# what differs, as verify's JSON names it (scoring.audit.compare.differences), in the table's words;
# anything else is a path in the document and is shown as it is
DIFFERENCE_NAMES = {"total": "总分", "grade": "等级", "rank": "排名", "floor": "保底分", "points": "项目得分",
                    "case total": "办件得分", "ceiling": "可达上限", "ceiling_grade": "可达上限等级",
                    "ceiling_own_steps": "仅凭本单位可达"}


def _difference_name(what: str) -> str:
    kind, _, change = what.partition(" ")
    if kind == "line" and change in CHANGE_NAMES:
        return "账目" + CHANGE_NAMES[change]
    return DIFFERENCE_NAMES.get(what, what)


def replay(result: ReplayResult) -> str:
    """`replay`: reproduced, or the impact of the changed rules (or of whatever made it differ)."""
    if result.reproduced:
        return _("reproduced: run {run}: the ledger is byte-identical (sha256 {sha256})").format(
            run=result.run, sha256=result.ledger_sha256) + "\n"
    head = (_("replay of run {run} under changed rules: the impact").format(run=result.run) + "\n\n"
            if result.changed_rules else
            _("NOT reproduced: run {run}: the ledger differs from the recorded one").format(run=result.run) + "\n"
            + engine_note(result.old_ledger, result.new.ledger) + "\n")
    return head + impact(result.document)


def validation(report) -> str:
    """`rules validate` of one file: the points each item can give, then its problems (or "clean")."""
    out = []
    if report.ranges:
        out.append(_("{file}: the points each item can give (per case, or per department) and the total").format(
            file=report.path))
        out.append(tabulate([[item, title, format_interval(found)] for item, title, found in report.ranges],
                            headers=["项目", "名称", "可得分"], tablefmt="simple", disable_numparse=True))
    if report.problems:
        out.append(_("{file}: {n} problem(s):").format(file=report.path, n=len(report.problems)))
        out += [f"  {problem}" for problem in report.problems]
    else:
        out.append(_("{file}: clean").format(file=report.path))
    if report.waived:
        out.append(_("{file}: {n} finding(s) waived by the rulebook ([[waiver]]), each with its reason:").format(
            file=report.path, n=len(report.waived)))
        out += [f"  {problem}\n    " + _("waived: {reason}").format(reason=reason) for problem, reason in report.waived]
    return "\n".join(out) + "\n"


def engine_note(old: dict, new: dict) -> str:
    """A line saying that two ledgers were made by different engine versions ('' when the same)."""
    if old.get("engine") == new.get("engine"):
        return ""
    return _("note: made by {old}, scored again by {new}").format(
        old=json.dumps(old.get("engine"), ensure_ascii=False), new=json.dumps(new.get("engine"), ensure_ascii=False)) + "\n"


def _cell(value) -> str:
    return NONE if value is None else str(value)
