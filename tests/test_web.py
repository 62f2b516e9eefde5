"""The web workbench in process (Flask's test client): every route, and every way a request is refused.

Each page is the app call of a command and its renderer: a download is the same bytes as the
command's --format, an input's problems are the command line's messages.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import zipfile

import openpyxl
import pytest
from casekit import REFERENCE, SAMPLE
from clikit import scoring
from webkit import REFERENCE_REF, REGISTER, WAIVER_REF, csrf, message, problems, upload, workbench

from scoring.web import jobs

SAMPLE_BYTES = SAMPLE.read_bytes()
SAMPLE_REF = hashlib.sha256(SAMPLE_BYTES).hexdigest()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return workbench(tmp_path_factory.mktemp("workbench"))


@pytest.fixture(scope="module")
def client(app):
    client = app.test_client()
    assert upload(client, "cases", "cases-2020.jsonl", SAMPLE_BYTES).status_code == 303
    return client


def chosen(**more) -> dict:
    return {"cases": SAMPLE_REF, "rules": REFERENCE_REF, **more}


# ---------------------------------------------------------------- inputs

def test_the_home_page_offers_the_shipped_rules_and_the_uploads(client):
    page = client.get("/")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    assert "proposal-handling.toml" in page.text and WAIVER_REF in page.text
    assert ".tests" not in page.text  # the rulebooks' fixtures are not offered
    assert "cases-2020.jsonl" in page.text and SAMPLE_REF[:12] in page.text


def test_an_uploaded_register_is_checked_kept_by_its_content_and_described(client):
    data = REGISTER.read_bytes()
    done = upload(client, "cases", "register-2020.xlsx", data)
    digest = hashlib.sha256(data).hexdigest()
    assert done.status_code == 303 and done.headers["Location"].startswith(f"/inputs/{digest}")
    page = client.get(f"/inputs/{digest}")
    assert page.status_code == 200
    assert "209 件" in page.text and "市民政局" in page.text and "2020-03-10 至 2021-02-26" in page.text
    assert "d9680d24c6b9" in page.text  # the same scored content as the JSON sample


def test_an_uploads_name_never_becomes_a_path(tmp_path):
    client = workbench(tmp_path).test_client()
    done = upload(client, "rulebook", "../../outside.toml", REFERENCE.read_bytes())
    assert done.status_code == 303
    assert not (tmp_path.parent / "outside.toml").exists() and not (tmp_path / "outside.toml").exists()
    digest = hashlib.sha256(REFERENCE.read_bytes()).hexdigest()
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == [digest, f"{digest}.json"]
    assert json.loads((tmp_path / "uploads" / f"{digest}.json").read_text(encoding="utf-8"))["name"] == "outside.toml"
    ranked = client.get("/ranking", query_string={"cases": REFERENCE_REF, "rules": digest})
    assert ranked.status_code == 404  # a rulebook is not a case file: each reference is looked up for its kind


def bad_register() -> bytes:
    book = openpyxl.load_workbook(REGISTER)
    sheet = book["办理台账"]
    headers = [cell.value for cell in sheet[2]]  # under the title row
    sheet.cell(3, headers.index("办理类型") + 1, "牵头办")
    sheet.cell(4, headers.index("签收日期") + 1, "2020/13/45")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_every_problem_of_a_register_is_shown_by_sheet_row_and_column_and_nothing_is_kept(client, tmp_path):
    data = bad_register()
    (tmp_path / "bad.xlsx").write_bytes(data)
    page = upload(client, "cases", "bad.xlsx", data)
    assert page.status_code == 422
    shown = problems(page.text)
    command_line = scoring("import", "bad.xlsx", "--out", "out.jsonl", cwd=tmp_path)
    assert command_line.returncode == 2
    assert shown == [line.strip() for line in command_line.stderr.splitlines()[1:]]  # as the command line reports them
    assert any("sheet 办理台账, column 办理类型" in p and '"牵头办"' in p for p in shown)
    assert any("column 签收日期" in p and "2020/13/45" in p for p in shown)
    assert client.get(f"/inputs/{hashlib.sha256(data).hexdigest()}").status_code == 404  # not kept


def test_a_bad_case_file_rulebook_overlay_or_records_file_is_refused_with_its_lines(client):
    bad_cases = upload(client, "cases", "bad.jsonl", SAMPLE_BYTES.replace(b'"signed"', b'"signd"', 1))
    assert bad_cases.status_code == 422
    assert any(p.startswith("bad.jsonl:1: case 2020-J0001") and '"signd"' in p for p in problems(bad_cases.text))
    rules = REFERENCE.read_text(encoding="utf-8").replace("sign_due", "sing_due", 2).encode("utf-8")
    bad_rules = upload(client, "rulebook", "x.toml", rules)
    assert bad_rules.status_code == 422 and any(p.startswith("x.toml:") and "sing_due" in p for p in problems(bad_rules.text))
    as_overlay = upload(client, "overlay", "proposal-handling.toml", REFERENCE.read_bytes())
    assert as_overlay.status_code == 422 and "this is a rulebook, not an overlay" in problems(as_overlay.text)[0]
    records = upload(client, "departments", "d.jsonl", b'{"department": "x"}\n[1]\n')
    assert records.status_code == 422 and problems(records.text)[0].startswith("d.jsonl:2: department")
    not_text = upload(client, "rulebook", "x.toml", b"\xff\xfe rules")
    assert not_text.status_code == 422 and "not UTF-8" in problems(not_text.text)[0]


def test_uploads_have_size_limits(client):
    too_big = upload(client, "rulebook", "big.toml", b"#" * (1024 * 1024 + 1))
    assert too_big.status_code == 413 and "最大 1 MB" in message(too_big.text)
    whole_request = upload(client, "cases", "huge.jsonl", b" " * (22 * 1024 * 1024))
    assert whole_request.status_code == 413
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sheet.xml", b"\0" * (201 * 1024 * 1024))
    unpacked = upload(client, "cases", "bomb.xlsx", bomb.getvalue())
    assert unpacked.status_code == 413 and "解压后过大" in message(unpacked.text)
    assert upload(client, "cases", "empty.jsonl", b"").status_code == 400


def test_an_upload_needs_a_kind_and_a_file(client):
    secret = csrf(client)
    assert client.post("/upload", data={"csrf": secret, "kind": "script", "file": (io.BytesIO(b"x"), "a")}).status_code == 400
    assert client.post("/upload", data={"csrf": secret, "kind": "cases"}).status_code == 400


def test_unknown_inputs_are_not_found(client):
    assert client.get("/inputs/" + "0" * 64).status_code == 404
    assert client.get("/inputs/..%2F..%2Fpyproject.toml").status_code == 404
    for rules in ("../pyproject.toml", "proposal-handling.tests/lead-items.toml", "0" * 64):
        assert client.get("/ranking", query_string=chosen(rules=rules)).status_code == 404
    assert client.get("/ranking", query_string={"rules": REFERENCE_REF}).status_code == 400  # no case file chosen


# ---------------------------------------------------------------- reports

def test_the_ranking_drills_down_from_department_to_case_to_line(client):
    page = client.get("/ranking", query_string=chosen())
    assert page.status_code == 200
    text = page.text
    assert '<a href="#d1">市知识产权局</a>' in text and '<details class="department" id="d1">' in text
    assert '<details class="case"><summary><code>2020-J0002</code>' in text
    assert "2020-03-12签收，未超过交办（2020-03-10）后3个工作日的期限2020-03-13" in text  # a ledger line's explanation
    assert "/download/score.xlsx?" in text and "办件：cases-2020.jsonl" in text
    # the city-wide figures above the ranking, the hashes under the report
    assert '<ul class="figures"><li>办件 209 件</li><li>部门 15 个</li><li>面商率 68.0%（153/225）</li></ul>' in text
    assert '<p class="hashes">规则 sha256 7d25102f339d · 输入 sha256 d9680d24c6b9</p>' in text
    assert text.index("figures") < text.index("<h2>排名</h2>") and text.index("<h2>排名</h2>") < text.index('class="hashes"')


def test_the_self_check_shows_what_is_secured_reachable_at_risk_missed_and_missing(client):
    form = client.get("/self-check", query_string=chosen())
    assert form.status_code == 200 and "<option>市民政局</option>" in form.text and "已得分" not in form.text
    page = client.get("/self-check", query_string=chosen(department="市民政局", as_of="2020-06-05"))
    assert page.status_code == 200
    text = page.text
    assert "73.65" in text and "94.00" in text and "84.31" in text  # floor, ceiling, own steps (the README's example)
    for heading in ("未到期事项（按期限先后）（3）", "已错过的期限（1）", "缺少的记录，尚未发生或尚未录入（15）", "各件明细"):
        assert heading in text
    at_risk = text[text.index("未到期事项"):text.index("尚无期限的事项")]
    assert at_risk.index("2020-07-03") < at_risk.index("2020-07-30")  # by deadline
    assert "尚未答复（答复期限2020-07-03）" in text and "（可达 " in text


def test_the_self_check_refuses_an_unknown_department_and_a_bad_or_impossible_date(client):
    unknown = client.get("/self-check", query_string=chosen(department="市民政", as_of="2020-06-05"))
    assert unknown.status_code == 422 and 'did you mean "市民政局"' in " ".join(problems(unknown.text))
    assert client.get("/self-check", query_string=chosen(department="市民政局", as_of="2020-13-05")).status_code == 400
    early = client.get("/self-check", query_string=chosen(department="市民政局", as_of="2019-01-01"))
    assert early.status_code == 422 and "2019-01-01" in message(early.text) + " ".join(problems(early.text))


def test_the_bulletin_of_a_month_and_a_bad_or_late_month(client):
    assert "<input type=\"month\"" in client.get("/bulletin", query_string=chosen()).text
    page = client.get("/bulletin", query_string=chosen(month="2020-06"))
    assert page.status_code == 200 and "2020-06 月度通报" in page.text and "本月到期未得满分的事项（79）" in page.text
    assert client.get("/bulletin", query_string=chosen(month="2020-13")).status_code == 400
    assert client.get("/bulletin", query_string=chosen(month="2022-01")).status_code == 422


def test_downloads_are_the_command_lines_outputs(client, tmp_path):
    small = REFERENCE.with_suffix(".tests") / "lead-items.jsonl"  # six cases: the workbook of a year takes seconds
    assert upload(client, "cases", small.name, small.read_bytes()).status_code == 303
    these = chosen(cases=hashlib.sha256(small.read_bytes()).hexdigest())
    command = ["--rules", str(REFERENCE), "--cases", str(small)]
    ledger = client.get("/download/score.json", query_string=these)
    assert ledger.status_code == 200 and ledger.mimetype == "application/json"
    assert ledger.data.decode("utf-8") == scoring("score", *command, "--format", "json").stdout
    workbook = client.get("/download/score.xlsx", query_string=these)
    assert "attachment" in workbook.headers["Content-Disposition"]
    assert openpyxl.load_workbook(io.BytesIO(workbook.data)).sheetnames[:2] == ["排名", "明细"]
    check = client.get("/download/self-check.json", query_string={**these, "department": "甲局", "as_of": "2020-06-30"})
    assert check.data.decode("utf-8") == scoring("self-check", *command, "--department", "甲局", "--as-of", "2020-06-30",
                                                 "--format", "json").stdout
    bulletin = client.get("/download/bulletin.html", query_string={**these, "month": "2020-06"})
    assert bulletin.data.decode("utf-8") == scoring("bulletin", *command, "--month", "2020-06", "--format", "html").stdout
    # the Word notice and the printable workbook, headed by the issuing office and the date of issue given in the form
    issue = {"month": "2020-06", "issuer": "市政府督查室", "issued": "2020-07-05"}
    for fmt, kind in (("docx", "wordprocessingml.document"), ("xlsx", "spreadsheetml.sheet")):
        out = tmp_path / f"bulletin.{fmt}"
        made = scoring("bulletin", *command, "--month", "2020-06", "--issuer", "市政府督查室", "--issued", "2020-07-05",
                       "--format", fmt, "--out", out)
        assert made.returncode == 0, made.stderr
        got = client.get(f"/download/bulletin.{fmt}", query_string={**these, **issue})
        assert got.status_code == 200 and got.data == out.read_bytes(), fmt
        assert got.headers["Content-Disposition"].startswith("attachment") and got.mimetype.endswith(kind), got.mimetype
    page = client.get("/bulletin", query_string={**these, **issue})
    assert "市政府督查室　2020年7月5日" in page.text and "issuer=" in page.text  # headed so, and the downloads carry it
    assert client.get("/bulletin", query_string={**these, "month": "2020-06", "issuer": "x" * 61}).status_code == 400
    assert client.get("/download/score.docx", query_string=these).status_code == 404
    assert client.get("/download/self-check.xlsx", query_string=these).status_code == 400  # which department?
    assert client.get("/download/bulletin.json", query_string=these).status_code == 400  # which month?


def test_the_reports_style_and_script_are_served_from_the_server(client):
    assert client.get("/report.css").mimetype == "text/css"
    assert client.get("/report.js").mimetype == "text/javascript"
    assert client.get("/static/workbench.css").status_code == 200
    assert client.get("/no-such-page").status_code == 404


# ---------------------------------------------------------------- the auditor's

def test_record_show_replay_and_compare_runs(tmp_path):
    client = workbench(tmp_path).test_client()
    upload(client, "cases", "cases-2020.jsonl", SAMPLE_BYTES)
    empty = client.get("/runs")
    assert empty.status_code == 200 and "运行库尚未建立" in empty.text and not (tmp_path / "runs.db").exists()
    recorded = client.post("/runs", data={"csrf": csrf(client), **chosen()})
    assert recorded.status_code == 303
    run_id = recorded.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert "scoring score --record --rules proposal-handling.toml --cases cases-2020.jsonl" in page.text  # what it is recorded as
    ledger = client.get(f"/runs/{run_id}/ledger.json")
    assert json.loads(ledger.data)["input"]["sha256"].startswith("d9680d24c6b9")
    same = client.post(f"/runs/{run_id}/replay", data={"csrf": csrf(client)})
    assert same.status_code == 200 and "已重现" in same.text
    changed = client.post(f"/runs/{run_id}/replay", data={"csrf": csrf(client), "overlay": WAIVER_REF, "keep": "1"})
    assert changed.status_code == 200 and "调整后的规则下重放" in changed.text and "L2-other → L2-waived" in changed.text
    replayed = re.search(r"已记为运行 ([0-9a-f]{12})", changed.text).group(1)
    listed = client.get("/runs")
    assert run_id in listed.text and replayed in listed.text and "哈希链完整" in listed.text
    compared = client.get("/diff", query_string={"a": run_id, "b": replayed})
    assert compared.status_code == 200 and "3/15 个总分变化" in compared.text
    assert client.get("/runs/abcdef123456").status_code == 422  # no such run (the store's message)
    assert client.get("/runs/not-a-run").status_code == 400
    assert client.get("/diff", query_string={"a": run_id, "b": "../x"}).status_code == 400


def test_an_altered_store_is_named_and_not_used(tmp_path):
    client = workbench(tmp_path).test_client()
    upload(client, "cases", "cases-2020.jsonl", SAMPLE_BYTES)
    run_id = client.post("/runs", data={"csrf": csrf(client), **chosen()}).headers["Location"].rsplit("/", 1)[1]
    db = sqlite3.connect(tmp_path / "runs.db")
    db.execute("DROP TRIGGER runs_append_only_update")
    db.execute("UPDATE runs SET record = replace(record, 'cases-2020', 'cases-2021')")
    db.commit()
    db.close()
    page = client.get("/runs")
    assert page.status_code == 200 and "运行库被改动或损坏" in page.text and f"run {run_id}" in page.text
    assert client.get(f"/runs/{run_id}").status_code == 422


# ---------------------------------------------------------------- who may use it

def test_forms_need_the_servers_secret(client):
    assert client.post("/upload", data={"kind": "cases", "file": (io.BytesIO(SAMPLE_BYTES), "a.jsonl")}).status_code == 403
    assert client.post("/runs", data={"csrf": "guess", **chosen()}).status_code == 403


def test_on_the_loopback_address_the_host_must_name_this_computer(client):
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8000"}).status_code == 200
    rebound = client.get("/", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 403 and "本机地址" in message(rebound.text)


def test_every_page_file_and_upload_checks_the_token(tmp_path):
    app = workbench(tmp_path, token="s3cret", local_only=False)
    client = app.test_client()
    for method, path in [("get", "/"), ("get", "/report.css"), ("get", "/static/workbench.css"), ("get", "/runs"),
                         ("get", "/ranking"), ("get", "/download/score.json"), ("post", "/upload"), ("post", "/runs")]:
        assert getattr(client, method)(path, headers={"Host": "10.0.0.5:8000"}).status_code == 403, path
    wrong = client.get("/?token=guess")
    assert wrong.status_code == 403 and "访问令牌" in message(wrong.text)
    # the refusal carries its own style (its style sheets would be refused too) and names no path of this computer
    assert "<style>" in wrong.text and "report.css" not in wrong.text and str(tmp_path) not in wrong.text
    assert client.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    given = client.get("/ranking?token=s3cret&cases=x")
    assert given.status_code == 303 and given.headers["Location"] == "/ranking?cases=x"  # the token leaves the address
    cookie = given.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/").status_code == 200  # now with the cookie
    assert upload(client, "cases", "cases-2020.jsonl", SAMPLE_BYTES).status_code == 303


def test_every_response_forbids_what_the_pages_do_not_need(client):
    headers = client.get("/").headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
    assert "<script>" not in client.get("/ranking", query_string=chosen()).text  # the report's script comes from /report.js


# ---------------------------------------------------------------- the jobs

def test_a_job_that_crashes_is_a_failure_not_a_dead_server():
    with pytest.raises(jobs.Failed) as crashed:
        jobs.Worker(1).run(os.abort)
    assert crashed.value.status == 3 and "ended without a result" in crashed.value.message
    assert jobs.Worker(1).run(jobs.ready) is True


def test_a_job_speaks_the_servers_language_not_the_environments(tmp_path):
    """`scoring --lang zh serve` under an English environment (this suite's): the forkserver starts
    with the environment, so the language goes to each job."""
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xff\n")
    for language, words in (("zh", "不是 UTF-8 文本"), ("en", "not UTF-8 text")):
        with pytest.raises(jobs.Failed) as refused:
            jobs.Worker(1, language=language).run(jobs.describe, "cases", jobs.File("bad.jsonl", str(bad)))
        assert words in " ".join(refused.value.problems), (language, refused.value.problems)


def test_serve_listens_on_the_loopback_address_and_needs_a_token_elsewhere(tmp_path):
    from scoring.web.serve import address, settings_for
    local = settings_for("127.0.0.1", str(tmp_path), "runs.db", None, None)
    assert local.local_only and local.token is None and local.store.is_absolute()
    anywhere = settings_for("0.0.0.0", str(tmp_path), "runs.db", None, None)
    assert not anywhere.local_only and len(anywhere.token) >= 32
    assert settings_for("0.0.0.0", str(tmp_path), "runs.db", None, "mine").token == "mine"
    assert address("::1", 8000, "t") == "http://[::1]:8000/?token=t"


def test_only_uploads_and_shipped_rule_files_are_offered(tmp_path):
    shutil.copy(REGISTER, tmp_path / "x.xlsx")  # a file in the working directory is not an input until uploaded
    assert "x.xlsx" not in workbench(tmp_path).test_client().get("/").text
