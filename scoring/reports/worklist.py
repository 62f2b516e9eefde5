"""The self-check as a work list: one row per item at stake, missed, or waiting on a record.

`self-check --format csv` writes it; the workbook's 待办 sheet shows the same rows.
"""
from __future__ import annotations

from scoring.base.i18n import N_, _
from scoring.ledger.document import csv_text
from scoring.ledger.labels import Labels, event_name

# the work list's columns; the CSV's header is in the current language (to_csv)
WORK_COLUMNS = [N_("section"), N_("case"), N_("criterion"), N_("title"), N_("due"), N_("workdays_left"), N_("points"),
                N_("decided_by"), N_("text")]


def work_list(document: dict, labels: Labels) -> list[list]:
    """One row (WORK_COLUMNS) per item at stake, missed, or waiting on a record: the self-check as a work list."""
    rows = []
    for section in ("at_risk", "undated", "decided_by_others", "missed"):
        for i in document[section]:
            points = -i["cost"] if section == "missed" else i["points"]
            rows.append([section, i["case"], i["criterion"], i["title"], i.get("due") or "", i.get("workdays_left", ""),
                         points, i.get("decided_by", ""), i["missing"] or i.get("record", "")])
    for e in document["missing_evidence"]:
        rows.append(["missing_evidence", e["case"], " ".join(e["criteria"]), event_name(labels, e["event"]), "", "", "", "",
                     "；".join(e["missing"])])
    return rows


def to_csv(document: dict, labels: Labels) -> str:
    return csv_text([_(column) for column in WORK_COLUMNS], work_list(document, labels))
