"""What changed between two ledgers, and between the two rulebooks that made them.

`ledger_changes` is the impact of a rule change (or of anything else): per department the
old and new total, delta, grade and rank; the items whose points moved; and per case the
ledger lines that changed, each with the rule responsible. Deltas are exact: they are taken
from the decimal figures printed in the ledgers, never from binary floats.

`rulebook_changes` compares two rulebook texts item by item: criteria, rules, rubrics and
grade bands by id (or name), so that a replaced rule reads as "criterion.K1.rule.K1-late.when
changed" rather than as a shifted list; the order of rules is reported when it changes,
because it decides which rule counts (hit = "first").
"""
from __future__ import annotations

import tomllib
from decimal import Decimal

from scoring.ledger.document import number, plain
from scoring.ledger.shapes import DIFF, SELF_CHECK, DepartmentChange, DiffDocument, Difference, LineChange, RuleChange


def exact(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# ---------------------------------------------------------------- ledgers

def ledger_changes(old: dict, new: dict) -> dict:
    """A scoring-diff/1 body: departments (all, in the new ranking order), with what moved in each."""
    old_departments = {d["department"]: d for d in old["departments"]}
    new_departments = {d["department"]: d for d in new["departments"]}
    names = list(new_departments) + [name for name in old_departments if name not in new_departments]
    departments = [_department(name, old_departments.get(name), new_departments.get(name)) for name in names]
    moved = [d for d in departments if d["delta"] != 0 or d["cases"] or d["lines"] or d["criteria"]
             or d["old_grade"] != d["new_grade"] or d["old_rank"] != d["new_rank"]]
    return {
        "departments": departments,
        "summary": {"departments": len(departments), "departments_changed": len(moved),
                    "departments_total_changed": sum(1 for d in departments if d["delta"] != 0),
                    "cases_changed": len({c["case"] for d in departments for c in d["cases"]}),
                    "lines_changed": sum(len(d["lines"]) + sum(len(c["lines"]) for c in d["cases"]) for d in departments)},
    }


def _department(name: str, old: dict | None, new: dict | None) -> DepartmentChange:
    empty = {"total": None, "grade": None, "rank": None, "criteria": [], "lines": [], "cases": []}
    old, new = old or empty, new or empty
    old_total, new_total = exact(old["total"]), exact(new["total"])
    old_points = {c["criterion"]: exact(c["points"]) for c in old["criteria"]}
    new_points = {c["criterion"]: exact(c["points"]) for c in new["criteria"]}
    titles = {c["criterion"]: c["title"] for c in old["criteria"] + new["criteria"]}
    criteria = []
    for cid in list(new_points) + [c for c in old_points if c not in new_points]:
        before, after = old_points.get(cid) or Decimal(0), new_points.get(cid) or Decimal(0)
        if before != after or (cid in old_points) != (cid in new_points):
            criteria.append({"criterion": cid, "title": titles[cid], "old": _json(old_points.get(cid)),
                             "new": _json(new_points.get(cid)), "delta": _json(after - before)})
    old_cases = {c["case"]: c for c in old["cases"]}
    new_cases = {c["case"]: c for c in new["cases"]}
    cases = []
    for case_id in list(new_cases) + [c for c in old_cases if c not in new_cases]:
        before, after = old_cases.get(case_id), new_cases.get(case_id)
        lines = line_changes(before["lines"] if before else [], after["lines"] if after else [])
        old_case_total = exact(before["total"]) if before else None
        new_case_total = exact(after["total"]) if after else None
        if lines or old_case_total != new_case_total:
            cases.append({"case": case_id, "title": (after or before)["title"], "role": (after or before)["role"],
                          "old_total": _json(old_case_total), "new_total": _json(new_case_total),
                          "delta": _json((new_case_total or 0) - (old_case_total or 0)), "lines": lines})
    return {"department": name, "old_total": _json(old_total), "new_total": _json(new_total),
            "delta": _json((new_total or 0) - (old_total or 0)),
            "old_grade": old["grade"], "new_grade": new["grade"], "old_rank": old["rank"], "new_rank": new["rank"],
            # the lines of items outside the total too (indicator_lines): a change there is a change of the run
            "criteria": criteria, "lines": line_changes(old["lines"] + old.get("indicator_lines", []),
                                                        new["lines"] + new.get("indicator_lines", [])),
            "cases": cases}


def line_changes(old: list[dict], new: list[dict]) -> list[LineChange]:
    """Lines added, removed or changed. A line is matched first by criterion, rule, kind and
    evidence; what is left, by criterion and evidence (the same events, now scored by
    another rule, as when an overlay's rule takes over from a base rule)."""
    left, right = list(old), list(new)
    pairs: list[tuple[dict | None, dict | None]] = []
    for key in (lambda line: (line["criterion"], line["rule"], line["kind"], tuple(line["evidence"]), line.get("case")),
                lambda line: (line["criterion"], tuple(line["evidence"]), line.get("case"))):
        unmatched = []
        for line in left:
            match = next((i for i, other in enumerate(right) if key(other) == key(line)), None)
            if match is None:
                unmatched.append(line)
            else:
                pairs.append((line, right.pop(match)))
        left = unmatched
    pairs += [(line, None) for line in left] + [(None, line) for line in right]
    changes = []
    for before, after in pairs:
        if before is not None and after is not None and _same_line(before, after):
            continue
        line = after or before
        change = {"change": "changed" if before and after else ("added" if after else "removed"),
                  "criterion": line["criterion"], "rule": line["rule"]}
        if "case" in line:
            change["case"] = line["case"]
        if before and after and before["rule"] != after["rule"]:
            change["old_rule"] = before["rule"]
        change.update({"old_points": before["points"] if before else None, "new_points": after["points"] if after else None,
                       "evidence": line["evidence"], "old_text": before["text"] if before else None,
                       "new_text": after["text"] if after else None})
        changes.append(change)
    return sorted(changes, key=lambda c: (str(c["criterion"]), str(c.get("case") or "")))


def _same_line(a: dict, b: dict) -> bool:
    return all(a.get(key) == b.get(key) for key in ("criterion", "rule", "kind", "points", "evidence", "text"))


def _json(value):
    return None if value is None else number(value, 6)


# ---------------------------------------------------------------- rulebooks

def rulebook_changes(old_text: str, new_text: str) -> list[RuleChange]:
    """Changes from one rulebook text to another: {"path", "change": added|removed|changed|order, "old", "new"}."""
    if old_text == new_text:
        return []
    changes: list[dict] = []
    _compare(_by_id(tomllib.loads(old_text, parse_float=Decimal)), _by_id(tomllib.loads(new_text, parse_float=Decimal)),
             "", changes)
    return changes


def _by_id(data: dict) -> dict:
    """Lists of items become tables keyed by id (criteria, rules, rubrics) or name (grades)."""
    data = dict(data)
    for key, field in (("criterion", "id"), ("rubric", "id"), ("grade", "name")):
        if isinstance(data.get(key), list):
            data[key] = _keyed(data[key], field)
    if isinstance(data.get("criterion"), dict):
        data["criterion"] = {cid: ({**c, "rule": _keyed(c["rule"], "id")} if isinstance(c.get("rule"), list) else c)
                             for cid, c in data["criterion"].items()}
    return data


class _Keyed(dict):
    """A table that came from a list: its key order is part of the meaning."""


def _keyed(items: list, field: str) -> dict:
    return _Keyed((str(item.get(field)) if isinstance(item, dict) else str(index), item) for index, item in enumerate(items))


def _compare(old, new, path: str, out: list[dict]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append({"path": where, "change": "removed", "old": plain(old[key]), "new": None})
            elif key not in old:
                out.append({"path": where, "change": "added", "old": None, "new": plain(new[key])})
            else:
                _compare(old[key], new[key], where, out)
        if isinstance(old, _Keyed) and isinstance(new, _Keyed):
            common_old = [k for k in old if k in new]
            expected = common_old + [k for k in new if k not in old]
            if list(new) != expected:  # reordered, or an item added before others
                out.append({"path": f"{path} (order)", "change": "order", "old": list(old), "new": list(new)})
    elif old != new:
        out.append({"path": path, "change": "changed", "old": plain(old), "new": plain(new)})


# ---------------------------------------------------------------- documents

def diff_document(a: tuple[str, dict, str | None], b: tuple[str, dict, str | None]) -> DiffDocument:
    """scoring-diff/1 from two sides, each (label, ledger, effective rulebook text or None)."""
    (a_label, a_ledger, a_text), (b_label, b_ledger, b_text) = a, b

    def side(label, ledger):
        return {"label": label, "rulebook": ledger["rulebook"],
                "input": {"sha256": ledger["input"]["sha256"], "cases": ledger["input"]["cases"]}}
    return {"format": DIFF, "a": side(a_label, a_ledger), "b": side(b_label, b_ledger),
            "same_input": a_ledger["input"]["sha256"] == b_ledger["input"]["sha256"],
            "rulebook_changes": rulebook_changes(a_text, b_text) if a_text is not None and b_text is not None else None,
            **ledger_changes(a_ledger, b_ledger)}


def differences(claimed: dict, found: dict) -> list[Difference]:
    """Every difference between a ledger (or self-assessment) as claimed and as found by scoring again:
    {department, case, criterion, rule, what, claimed, found, text}."""
    check = claimed.get("format") == SELF_CHECK
    a, b = (_as_ledger(claimed), _as_ledger(found)) if check else (claimed, found)
    rows: list[dict] = []

    def row(department, what, old, new, case=None, criterion=None, rule=None, text=None):
        rows.append({"department": department, "case": case, "criterion": criterion, "rule": rule, "what": what,
                     "claimed": old, "found": new, "text": text})
    for d in ledger_changes(a, b)["departments"]:
        name = d["department"]
        for what in ("total", "grade", "rank"):
            if d[f"old_{what}"] != d[f"new_{what}"]:
                row(name, "floor" if check and what == "total" else what, d[f"old_{what}"], d[f"new_{what}"])
        for c in d["criteria"]:
            row(name, "points", c["old"], c["new"], criterion=c["criterion"])
        for case in d["cases"]:
            if case["old_total"] != case["new_total"]:
                row(name, "case total", case["old_total"], case["new_total"], case["case"])
        for case in [{"case": None, "lines": d["lines"]}] + d["cases"]:
            for line in case["lines"]:
                row(name, f"line {line['change']}", line["old_points"], line["new_points"], line.get("case") or case["case"],
                    line["criterion"], line["rule"], line["new_text"] if line["new_text"] is not None else line["old_text"])
    if check:
        for key in ("ceiling", "ceiling_grade", "ceiling_own_steps"):
            if claimed.get(key) != found.get(key):
                row(claimed.get("department"), key, claimed.get(key), found.get(key))
        ceilings = {c["criterion"]: c["ceiling"] for c in found["criteria"]}
        for c in claimed.get("criteria", []):
            if c.get("ceiling") != ceilings.get(c["criterion"]):
                row(claimed.get("department"), "ceiling", c.get("ceiling"), ceilings.get(c["criterion"]),
                    criterion=c["criterion"])
    if not rows:  # nothing about points: say which other parts differ, department by department and case by case
        rest: list[dict] = []
        _compare(_by_name(claimed), _by_name(found), "", rest)
        for change in rest:
            row(None, change["path"], change["old"], change["new"])
    return rows


def _by_name(document: dict) -> dict:
    """A ledger with departments and cases keyed by name, so that a difference names them."""
    data = {k: v for k, v in document.items() if k != "engine"}
    if isinstance(data.get("departments"), list):
        data["departments"] = _keyed([{**d, "cases": _keyed(d["cases"], "case")} if isinstance(d.get("cases"), list) else d
                                      for d in data["departments"]], "department")
    if isinstance(data.get("cases"), list):
        data["cases"] = _keyed(data["cases"], "case")
    return data


def _as_ledger(document: dict) -> dict:
    """A self-assessment seen as a one-department ledger: the floor is its total."""
    return {"departments": [{"department": document.get("department"), "total": document.get("floor"),
                             "grade": document.get("floor_grade"), "rank": None,
                             "criteria": [{"criterion": c["criterion"], "title": c.get("title", ""), "points": c.get("floor")}
                                          for c in document.get("criteria", [])],
                             "lines": document.get("lines", []), "cases": document.get("cases", [])}]}
