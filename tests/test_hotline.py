"""The 12345 hotline domain (scoring/domains/hotline.toml): its case model, the sample year and
its generator, the Excel register, and the whole product on it."""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import runpy
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from casekit import ROOT
from clikit import scoring
from openpyxl import load_workbook

from scoring.domain.spec import load_domain
from scoring.inputs.case_file import load_cases

HOTLINE = ROOT / "samples" / "hotline-2023.jsonl"
REGISTER = ROOT / "samples" / "hotline-register-2023.xlsx"
GENERATOR = ROOT / "samples" / "generate_hotline.py"


@pytest.fixture(scope="module")
def generator():
    return runpy.run_path(str(GENERATOR), run_name="generate_hotline")


@pytest.fixture(scope="module")
def tickets():
    return load_cases(HOTLINE, domain=load_domain("hotline")).cases


def test_the_hotline_domain_names_tickets_as_the_hotline_does():
    domain = load_domain("hotline")
    assert domain.timed
    assert domain.kinds == {"consult": "咨询", "help": "求助", "complaint": "投诉", "report": "举报", "opinion": "意见建议"}
    assert domain.roles == {"main": "主办", "assist": "协办"}
    assert domain.required_fields["dispatched"] == "channel"  # every dispatch says where the request came from
    assert domain.required_fields["sent_back"] == "reason" and domain.required_fields["exclusion_decided"] == "approved"
    assert set(domain.value_labels["rating"].values()) == {"非常满意", "满意", "基本满意", "不满意"}
    assert set(domain.value_labels["result"].values()) == {"已解决", "未解决"}
    # no label of the proposals domain's cases or outcomes on a ticket
    labels = domain.labels()
    assert labels["given"] == "派单"  # the word for the tickets a unit has been given: its dispatch
    words = [label for table in labels.values() if isinstance(table, dict) for label in table.values()
             if isinstance(label, str)]
    words += [label for table in domain.labels()["values"].values() for label in table.values()]
    assert not {"建议", "提案", "A类", "会办", "答复"} & set(words)


def test_a_dispatch_without_its_channel_is_refused_at_its_line(tmp_path):
    first = HOTLINE.read_text("utf-8").splitlines()[:3]
    broken = json.loads(first[1])
    del next(e for e in broken["events"] if e["type"] == "dispatched")["channel"]
    broken["events"][0]["channel"] = "fax"
    cases = tmp_path / "tickets.jsonl"
    cases.write_text("\n".join([first[0], json.dumps(broken, ensure_ascii=False), first[2]]) + "\n", "utf-8")
    ran = scoring("score", "--rules", str(ROOT / "rules" / "hotline-zhunger-2023.toml"), "--cases", str(cases))
    assert ran.returncode == 2
    assert f"tickets.jsonl:2: case {broken['id']}, events[0] (e1).channel: " in ran.stderr
    assert '"fax"; expected one of \'phone\', \'web\'' in ran.stderr


def test_the_sample_year_is_valid_and_has_what_it_claims(tickets):
    assert len(tickets) == 4000
    assert HOTLINE.stat().st_size < 3_000_000
    kinds = Counter(t.kind for t in tickets)
    assert set(kinds) == {"consult", "help", "complaint", "report", "opinion"}
    assert Counter(h.role for t in tickets for h in t.handlers)["assist"] > 100
    types = Counter(e.type for t in tickets for e in t.events)
    assert all(types[name] > 10 for name in load_domain("hotline").events), types
    assert {e.channel for t in tickets for e in t.events if e.type == "dispatched"} == {
        "phone", "web", "wechat", "app", "mailbox", "provincial", "national"}
    decided = Counter(e.approved for t in tickets for e in t.events if e.type == "exclusion_decided")
    assert decided[True] and decided[False]
    units = {h.department for t in tickets for h in t.handlers}
    assert len(units) == 20
    # events to the minute
    assert len({e.at.minute for t in tickets for e in t.events}) == 60


def _generated(generator, size: int, seed: int = 12345) -> str:
    out = io.StringIO()
    generator["write"](out, size, seed)
    return out.getvalue()


def test_the_generator_is_deterministic_and_wrote_the_sample(generator):
    assert _generated(generator, 4000) == HOTLINE.read_text("utf-8")
    assert _generated(generator, 50, seed=7) == _generated(generator, 50, seed=7) != _generated(generator, 50)


class _Counting(io.TextIOBase):
    """Standard output that keeps only how much was written."""

    def __init__(self):
        self.chars = 0

    def write(self, text):
        self.chars += len(text)
        return len(text)


def _peak(generator, size: int) -> int:
    out = _Counting()
    tracemalloc.start()
    try:
        generator["write"](out, size, 1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # thousands of tickets written twice, their memory measured
def test_the_generator_writes_any_size_in_bounded_memory(generator):
    small, large = _peak(generator, 200), _peak(generator, 4000)
    assert large < 2 * small + 200_000, (small, large)  # twenty times the tickets, not twenty times the memory


def test_the_generator_takes_a_size_on_its_command_line(generator, tmp_path, monkeypatch):
    out = tmp_path / "small.jsonl"
    monkeypatch.setattr(sys, "argv", ["generate_hotline.py", "--size", "25", "--out", str(out)])
    generator["main"]()
    assert len(out.read_text("utf-8").splitlines()) == 25
    assert out.read_text("utf-8") == _generated(generator, 25)


def _without_ids(case: dict):
    events = sorted((e["type"], e["date"], e["department"], sorted((k, v) for k, v in e.items()
                                                                 if k not in ("id", "type", "date", "department")))
                    for e in case["events"])
    return {k: v for k, v in case.items() if k not in ("events", "urgent")}, case.get("urgent", False), events


def test_the_register_sample_imports_to_the_tickets_of_its_month(tmp_path):
    out = tmp_path / "january.jsonl"
    ran = scoring("import", str(REGISTER), "--domain", "hotline", "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    imported = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    sample = {c["id"]: c for c in map(json.loads, HOTLINE.read_text("utf-8").splitlines())}
    january = [c for c in sample.values()
               if min(e["date"] for e in c["events"] if e["type"] == "dispatched").startswith("2023-01")]
    assert len(imported) == len(january) > 300
    assert [_without_ids(c) for c in imported] == [_without_ids(sample[c["id"]]) for c in imported]
    assert all(len(e["date"]) == 16 and e["date"][10] == "T" for c in imported for e in c["events"])


def test_a_register_time_without_minutes_or_with_seconds_is_refused_at_its_cell(tmp_path):
    workbook = load_workbook(REGISTER)
    sheet = workbook["工单台账"]
    sheet["J3"] = dt.date(2023, 1, 3)  # a date cell shown as a date: openpyxl reads it as midnight
    sheet["J3"].number_format = "yyyy-mm-dd"
    sheet["L3"] = dt.datetime(2023, 1, 3, 10, 20, 30)
    sheet["M3"] = "2023-01-05 9点"
    broken = tmp_path / "broken.xlsx"
    workbook.save(broken)
    ran = scoring("import", str(broken), "--domain", "hotline", "--out", str(tmp_path / "x.jsonl"))
    assert ran.returncode == 2
    where = "broken.xlsx:3: sheet 工单台账, column"
    assert f"{where} 派单时间 (J), case 20230000002: 2023-01-03 is a date without a time" in ran.stderr
    assert f"{where} 签收时间 (L), case 20230000002: 2023-01-03 10:20:30 has seconds" in ran.stderr
    assert f'{where} 办结时间 (M), case 20230000002: "2023-01-05 9点" is not a date-time to the minute' in ran.stderr


# ---------------------------------------------------------------- the whole product on a hotline year

ZHUNGER = ROOT / "rules" / "hotline-zhunger-2023.toml"


def _internal_words(text: str) -> set[str]:
    """The hotline domain's internal values (and the proposals domain's labels of a case) in a user's text."""
    domain = load_domain("hotline")
    values = {*domain.events, *domain.roles, *domain.kinds, "True", "False",
              *(v for values in domain.value_labels.values() for v in values if len(v) > 2)}
    found = {v for v in values if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text)}
    return found | ({"建议·"} if re.search(r"(?<!意见)建议·", text) else set())


def _cells(workbook: bytes) -> str:
    book = load_workbook(io.BytesIO(workbook))
    return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None)


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S))


@pytest.fixture(scope="module")
def spring(tmp_path_factory) -> Path:
    """The tickets of the sample dispatched by the end of April: a few hundred, scored in this process."""
    lines = [line for line in HOTLINE.read_text("utf-8").splitlines()
             if min(e["date"] for e in json.loads(line)["events"] if e["type"] == "dispatched") < "2023-05"]
    path = tmp_path_factory.mktemp("spring") / "spring.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_score_explain_and_reports_show_labels(spring, tmp_path):
    common = ["--rules", str(ZHUNGER), "--cases", str(spring), "--jobs", "0"]
    table = scoring("score", *common)
    assert table.returncode == 0, table.stderr
    assert "R1 响应率" in table.stdout and "响应率" in table.stdout.splitlines()[0]
    ledger = tmp_path / "ledger.json"
    assert scoring("score", *common, "--format", "json", "--out", str(ledger)).returncode == 0
    assert scoring("verify", str(ledger), *common).returncode == 0
    for fmt in ("xlsx", "html"):
        out = tmp_path / f"score.{fmt}"
        assert scoring("score", *common, "--format", fmt, "--out", str(out)).returncode == 0
        text = _cells(out.read_bytes()) if fmt == "xlsx" else _text(out.read_text("utf-8"))
        assert _internal_words(text) == set(), fmt
        assert "求助·主办" in text or fmt == "xlsx"
    explained = scoring("explain", *common, "--department", "薛家湾镇")
    assert explained.returncode == 0 and "·主办" in explained.stdout
    assert _internal_words(explained.stdout) == set()
    workbook = tmp_path / "explain.xlsx"
    assert scoring("explain", *common, "--department", "薛家湾镇", "--format", "xlsx", "--out", str(workbook)).returncode == 0
    assert _internal_words(_cells(workbook.read_bytes())) == set()


def test_self_check_and_bulletin_on_tickets(spring, tmp_path):
    common = ["--rules", str(ZHUNGER), "--cases", str(spring), "--jobs", "0"]
    check = scoring("self-check", *common, "--department", "薛家湾镇", "--as-of", "2023-03-31")
    assert check.returncode == 0, check.stderr
    assert "回访评价（非常满意、市民认为已解决）" in check.stdout
    assert _internal_words(check.stdout) == set()
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"check.{fmt}"
        assert scoring("self-check", *common, "--department", "薛家湾镇", "--as-of", "2023-03-31", "--format", fmt,
                       "--out", str(out)).returncode == 0
        text = _cells(out.read_bytes()) if fmt == "xlsx" else out.read_text("utf-8-sig")
        assert _internal_words(text) == set(), fmt
    bulletin = scoring("bulletin", *common, "--month", "2023-03")
    assert bulletin.returncode == 0, bulletin.stderr
    assert "2023-03 月度通报" in bulletin.stdout and _internal_words(bulletin.stdout) == set()


def test_replay_and_diff_of_a_recorded_hotline_run(spring, tmp_path):
    store = tmp_path / "runs.db"
    common = ["--rules", str(ZHUNGER), "--cases", str(spring), "--jobs", "0", "--store", str(store)]
    assert scoring("score", *common, "--record").returncode == 0
    first = scoring("runs", "list", "--store", str(store), "--format", "json")
    run = json.loads(first.stdout)[0]["id"] if first.returncode == 0 and first.stdout.startswith("[") else None
    assert run, first.stdout + first.stderr
    replayed = scoring("replay", run, "--store", str(store), "--jobs", "0")
    assert replayed.returncode == 0, replayed.stderr
    changed = scoring("replay", run, "--store", str(store), "--jobs", "0", "--set", "sign_hours=1", "--record")
    assert changed.returncode == 0 and "1个工作小时内签收" in changed.stdout
    runs = json.loads(scoring("runs", "list", "--store", str(store), "--format", "json").stdout)
    diff = scoring("diff", run, runs[-1]["id"] if runs[-1]["id"] != run else runs[0]["id"], "--store", str(store))
    assert diff.returncode in (0, 1) and "params.sign_hours: 2 → 1" in diff.stdout


@pytest.mark.slow
def test_the_bulletin_of_the_whole_year_in_worker_processes():
    # departments of 200 tickets and more: each department's self-check runs in a forked worker
    ran = scoring("bulletin", "--rules", str(ZHUNGER), "--cases", str(HOTLINE), "--month", "2023-06", "--jobs", "2")
    assert ran.returncode == 0, ran.stderr
    assert "截至月末已派单 2017 件" in ran.stdout


def test_the_june_roll_of_the_sample_lists_five_red_and_five_black():
    ran = scoring("score", "--rules", str(ROOT / "rules" / "hotline-yulin-2023-06.toml"), "--cases", str(HOTLINE),
                  "--format", "json")
    assert ran.returncode == 0, ran.stderr
    ledger = json.loads(ran.stdout)
    rolls = Counter(line["criterion"] for d in ledger["departments"] for line in d["lines"]
                    if line["criterion"] in ("B1", "B2") and line["kind"] == "rule")
    assert rolls == Counter({"B1": 5, "B2": 5})
    assert any("倒数第1名" in line["text"] for d in ledger["departments"] for line in d["lines"])
