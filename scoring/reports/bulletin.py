"""The monthly bulletin's tables as cells, for every format that lists them: the terminal, the
workbook and the Word document (the HTML page adds badges and colours to the same columns).

A cell is a raw value (a number, a text, None for "—"); each column says what kind of value it
holds, and each renderer writes the kinds its own way (two decimals in a terminal, a number cell
in a workbook).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class Table:
    title: str  # what the table lists, with its count
    headers: list[str]
    kinds: list[str]  # rank, move, group, text, points, delta, count, amount (a number as few decimals as it needs), day
    rows: list[list]
    empty: str  # what stands instead of the table when it has no row


def heading(document: dict) -> str:
    """The bulletin's title: the scheme and the month, as a notice is headed."""
    year, month = document["month"].split("-")
    return f"{document['rulebook']['title']} {int(year)}年{int(month)}月通报"


def issue_line(issuer: str | None, issued: dt.date | None) -> str | None:
    """Who issues the bulletin and when (from the rulebook's [rulebook] issuer, or the options); None when neither."""
    parts = [issuer or "", f"{issued.year}年{issued.month}月{issued.day}日" if issued else ""]
    return "　".join(part for part in parts if part) or None


def figure_names(document: dict) -> tuple[str, str]:
    """What the ranking's figure and the secured one are called: 总分 (at the assessment's end) or 可达分, and
    已得分; or, ranked by an item ([ranking] by), that item's name."""
    by = document.get("rank_by")
    if by is None:
        return ("总分" if document["final"] else "可达分"), "已得分"
    return (by["title"] if document["final"] else f"可达{by['title']}"), f"已得{by['title']}"


def tables(document: dict) -> list[Table]:
    """The ranking, the deadlines missed in the month, the items due in the next."""
    d = document
    grouped = any("group" in r for r in d["departments"])
    figure, secured = figure_names(d)
    standing = [figure, "较上月", "等级"] if d["final"] else [figure, "较上月", secured]
    ranking = Table(
        "排名",
        ["排名", "升降"] + ["组别"] * grouped + ["部门", *standing, "办件", "本月失分项", "下月到期"],
        ["rank", "move"] + ["group"] * grouped + ["text", "points", "delta", "text" if d["final"] else "points",
                                                   "count", "count", "count"],
        [[r["rank"], r["change"]] + [r.get("group")] * grouped
         + [r["department"], r["reachable"], r["change"]["reachable"] if r["change"] else None,
            r["grade"] if d["final"] else r["secured"], r["cases"], r["missed"], r["due_next_month"]]
         for r in d["departments"]],
        "无")
    missed, due = d["missed"], d["due_next_month"]
    head = ["部门", "案号", "事项", "期限"]
    head_kinds = ["text", "text", "text", "day"]
    return [
        ranking,
        Table(f"本月到期未得满分的事项（{len(missed)} 项）", head + ["已失分", "仍可挽回", "情况"],
              head_kinds + ["amount", "amount", "text"],
              [_item(m) + [m["cost"], m["recoverable"] or None, m["record"]] for m in missed], "本月到期未得满分的事项：无"),
        Table(f"下月到期事项（{len(due)} 项）", head + ["剩余工作日", "分值", "待办"], head_kinds + ["amount", "amount", "text"],
              [_item(m) + [m["workdays_left"], m["points"], m["missing"]] for m in due], "下月到期事项：无"),
    ]


def _item(entry: dict) -> list:
    return [entry["department"], entry["case"], f"{entry['criterion']} {entry['title']}", entry["due"]]
