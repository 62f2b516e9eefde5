"""The auditor's workflow, run as the README shows it: record, replay, diff, verify, check the store."""
import json
import re
import shutil
import sqlite3

import pytest
from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring, shuffled_sample

WAIVER = ROOT / "rules" / "overlays" / "phone-waiver.toml"
RULES = ("--rules", REFERENCE)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A store with two runs: the reference rulebook, and the same cases with the phone waiver."""
    folder = tmp_path_factory.mktemp("audit")
    store = folder / "runs.db"
    ids = []
    for extra in ((), ("--overlay", WAIVER)):
        run = scoring("score", *RULES, *extra, "--cases", SAMPLE, "--record", "--store", store, "--format", "json")
        assert run.returncode == 0, run.stderr
        assert run.stderr.startswith("recorded run ")
        ids.append(run.stderr.split()[2])
        (folder / f"ledger-{len(ids)}.json").write_text(run.stdout, encoding="utf-8")
    return {"store": store, "base": ids[0], "waiver": ids[1], "folder": folder}


def store_copy(recorded, tmp_path):
    copy = tmp_path / "runs.db"
    shutil.copy(recorded["store"], copy)
    return copy


def test_runs_list_shows_what_each_run_scored(recorded):
    run = scoring("runs", "list", "--store", recorded["store"], "--format", "json")
    assert run.returncode == 0, run.stderr
    entries = json.loads(run.stdout)
    assert [e["id"] for e in entries] == [recorded["base"], recorded["waiver"]]
    assert [e["rulebook"]["version"] for e in entries] == ["1.0.0", "1.0.0+phone-waiver.1.0.0"]
    ledger = json.loads((recorded["folder"] / "ledger-1.json").read_text(encoding="utf-8"))
    assert entries[0]["input"] == {"sha256": ledger["input"]["sha256"], "cases": 209}
    table = scoring("runs", "list", "--store", recorded["store"]).stdout
    assert recorded["base"] in table and "proposal-handling 1.0.0+phone-waiver.1.0.0" in table


def test_an_unchanged_replay_reproduces_the_ledger_byte_for_byte(recorded):
    run = scoring("replay", recorded["waiver"][:6], "--store", recorded["store"])
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"reproduced: run {recorded['waiver']}: the ledger is byte-identical")


def test_replay_with_the_overlay_gives_the_impact_and_diff_of_the_two_runs_agrees(recorded):
    replay = scoring("replay", recorded["base"], "--overlay", WAIVER, "--store", recorded["store"], "--format", "json")
    assert replay.returncode == 0, replay.stderr
    diff = scoring("diff", recorded["base"], recorded["waiver"], "--store", recorded["store"], "--format", "json")
    assert diff.returncode == 0, diff.stderr
    impact, between = json.loads(replay.stdout), json.loads(diff.stdout)
    assert impact["replay"] == {"run": recorded["base"], "changed_rules": True, "reproduced": None}
    for key in ("departments", "summary", "rulebook_changes", "same_input"):
        assert impact[key] == between[key], key
    # the deltas are the differences of the two published ledgers
    old, new = (json.loads((recorded["folder"] / f"ledger-{n}.json").read_text(encoding="utf-8")) for n in (1, 2))
    totals = {d["department"]: d["total"] for d in old["departments"]}
    for department in new["departments"]:
        moved = next(d for d in between["departments"] if d["department"] == department["department"])
        assert moved["new_total"] == department["total"] and moved["old_total"] == totals[department["department"]]
        assert abs(moved["delta"] - (department["total"] - totals[department["department"]])) < 1e-9
    changed = {d["department"] for d in between["departments"] if d["delta"]}
    assert changed == {"市市场监管局", "市人力资源社会保障局", "市工业和信息化局"}
    paths = {(c["path"], c["change"]) for c in between["rulebook_changes"]}
    assert {("criterion.L2.rule.L2-waived", "added"), ("criterion.D2.rate.of", "changed"),
            ("criterion.L2.rule (order)", "order"), ("params.waived_contact_points", "added")} <= paths
    lines = [line for d in between["departments"] for c in d["cases"] for line in c["lines"]]
    waived = [line for line in lines if line["rule"] == "L2-waived"]
    assert waived and all(line["old_rule"] == "L2-other" and line["new_points"] == 5 for line in waived)


def test_the_impact_table_names_departments_items_and_lines(recorded):
    run = scoring("diff", recorded["base"], recorded["waiver"], "--store", recorded["store"])
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert "规则变化（9）：" in text and "新增  criterion.L2.rule.L2-waived" in text
    assert "3/15 个总分变化" in text
    row = next(line for line in text.splitlines() if line.startswith("市市场监管局") and "+0.84" in line)
    assert "92.10" in row and "92.94" in row
    assert "L2-other → L2-waived" in text


def test_diff_of_two_ledger_files_works_without_the_store(recorded, tmp_path):
    run = scoring("diff", recorded["folder"] / "ledger-1.json", recorded["folder"] / "ledger-2.json", "--format", "json",
                  cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["rulebook_changes"] is None and document["summary"]["departments_total_changed"] == 3


def test_a_recorded_replay_names_the_run_it_replays(recorded, tmp_path):
    store = store_copy(recorded, tmp_path)
    run = scoring("replay", recorded["base"], "--set", "f2f_points=4", "--record", "--store", store)
    assert run.returncode == 0, run.stderr
    new_id = run.stderr.split()[2]
    shown = json.loads(scoring("runs", "show", new_id, "--store", store, "--format", "json").stdout)
    assert shown["record"]["replayed_from"] == recorded["base"]
    assert shown["record"]["rulebook"]["set"] == ["f2f_points=4"]
    assert shown["record"]["rulebook"]["version"] == "1.0.0+set(f2f_points=4)"
    assert scoring("runs", "check", "--store", store).returncode == 0


def test_runs_show_prints_the_record_and_the_ranking(recorded):
    run = scoring("runs", "show", recorded["waiver"], "--store", recorded["store"])
    assert run.returncode == 0, run.stderr
    assert f"run          {recorded['waiver']} (#2)" in run.stdout
    assert "overlay    " in run.stdout and "phone-waiver.toml" in run.stdout and "市知识产权局" in run.stdout


def test_an_exported_run_scores_again_to_the_same_bytes_without_the_tool_or_the_overlay(recorded, tmp_path):
    out = tmp_path / "export"
    run = scoring("runs", "export", recorded["waiver"], "--out", out, "--store", recorded["store"])
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["cases.jsonl", "ledger.json", "rulebook.toml", "run.json", "sources"]
    again = scoring("score", "--rules", out / "rulebook.toml", "--cases", out / "cases.jsonl", "--format", "json")
    assert again.stdout == (out / "ledger.json").read_text(encoding="utf-8")
    verified = scoring("verify", "ledger.json", "--rules", "rulebook.toml", "--cases", "cases.jsonl", cwd=out)
    assert verified.returncode == 0 and verified.stdout.startswith("confirmed: ledger.json")
    # from the sources: the base and the overlay give the same effective rulebook
    sources = sorted((out / "sources").iterdir())
    rebuilt = scoring("rules", "show", sources[1], "--overlay", sources[0])
    assert rebuilt.stdout == (out / "rulebook.toml").read_text(encoding="utf-8")
    refused = scoring("runs", "export", recorded["waiver"], "--out", out, "--store", recorded["store"])
    assert refused.returncode == 2 and "exists and is not an empty directory" in refused.stderr


# ---------------------------------------------------------------- the store refuses and reports tampering

def tamper(store, sql, *args):
    db = sqlite3.connect(store)
    for name in ("runs_append_only_update", "runs_append_only_delete", "blobs_append_only_update", "blobs_append_only_delete"):
        db.execute(f"DROP TRIGGER {name}")
    db.execute(sql, args)
    db.commit()
    db.close()


def record_of(store, run_id):
    db = sqlite3.connect(store)
    record = json.loads(db.execute("SELECT record FROM runs WHERE id = ?", (run_id,)).fetchone()[0])
    db.close()
    return record


def test_the_store_refuses_updates_and_deletes(recorded, tmp_path):
    store = store_copy(recorded, tmp_path)
    db = sqlite3.connect(store)
    for sql in ("UPDATE runs SET record = '{}'", "DELETE FROM runs", "UPDATE blobs SET content = x'00'", "DELETE FROM blobs"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)
    db.close()
    assert scoring("runs", "check", "--store", store).returncode == 0


@pytest.mark.parametrize("part, what", [("ledger", "ledger"), ("rulebook", "effective rulebook"), ("input", "case file")])
def test_runs_check_names_altered_content(recorded, tmp_path, part, what):
    store = store_copy(recorded, tmp_path)
    record = record_of(store, recorded["waiver"])
    digest = {"ledger": record["ledger"]["sha256"], "rulebook": record["rulebook"]["sha256"],
              "input": record["input"]["file_sha256"]}[part]
    tamper(store, "UPDATE blobs SET content = CAST(replace(CAST(content AS TEXT), '5', '6') AS BLOB) WHERE sha256 = ?", digest)
    check = scoring("runs", "check", "--store", store)
    assert check.returncode == 1
    assert (f"run {recorded['waiver']} (#2): the stored {what} ({digest[:12]}) does not match its sha256 "
            "(altered after recording)") in check.stderr
    # and nothing uses it: a replay of the run refuses
    replay = scoring("replay", recorded["waiver"], "--store", store)
    assert replay.returncode == 2 and "does not match its sha256: it was altered after recording" in replay.stderr


def test_runs_check_names_an_altered_record_and_a_missing_run(recorded, tmp_path):
    store = store_copy(recorded, tmp_path)
    record = record_of(store, recorded["base"])
    record["input"]["cases"] = 210
    tamper(store, "UPDATE runs SET record = ? WHERE id = ?", json.dumps(record, ensure_ascii=False, sort_keys=True,
                                                                        separators=(",", ":")), recorded["base"])
    check = scoring("runs", "check", "--store", store)
    assert check.returncode == 1
    assert f"run {recorded['base']} (#1): the record does not match its hash (altered after recording)" in check.stderr
    shown = scoring("runs", "show", recorded["base"], "--store", store)
    assert shown.returncode == 2 and "the run records were altered or damaged, so none is used" in shown.stderr
    # nothing more is chained onto a broken chain
    again = scoring("score", *RULES, "--cases", SAMPLE, "--record", "--store", store)
    assert again.returncode == 2 and "nothing was recorded" in again.stderr

    store = store_copy(recorded, tmp_path)
    tamper(store, "DELETE FROM runs WHERE id = ?", recorded["base"])
    check = scoring("runs", "check", "--store", store)
    assert check.returncode == 1
    assert f"run {recorded['waiver']} (#2): expected run #1 here; run(s) before it are missing" in check.stderr
    assert "the chain is broken" in check.stderr


def test_runs_check_reports_a_damaged_file(recorded, tmp_path):
    store = store_copy(recorded, tmp_path)
    data = bytearray(store.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # a page in the middle
    store.write_bytes(bytes(data))
    check = scoring("runs", "check", "--store", store)
    assert check.returncode != 0 and "Traceback" not in check.stderr
    assert str(store) in check.stderr


def test_bad_run_ids_and_bad_stores_get_clear_errors(recorded, tmp_path):
    wrong = recorded["base"][:-1] + ("0" if recorded["base"][-1] != "0" else "1")
    run = scoring("replay", wrong, "--store", recorded["store"])
    assert run.returncode == 2 and f'no run "{wrong}"' in run.stderr and f'did you mean "{recorded["base"]}"' in run.stderr
    junk = tmp_path / "junk.db"
    junk.write_text("not a database", encoding="utf-8")
    run = scoring("runs", "list", "--store", junk)
    assert run.returncode == 2 and "cannot be read as a run store" in run.stderr
    run = scoring("runs", "list", "--store", tmp_path / "none.db")
    assert run.returncode == 2 and "no run store here" in run.stderr and not (tmp_path / "none.db").exists()


# ---------------------------------------------------------------- verify

def test_verify_confirms_a_published_ledger_and_lists_every_claimed_point_that_differs(recorded, tmp_path):
    published = recorded["folder"] / "ledger-1.json"
    run = scoring("verify", published, *RULES, "--cases", SAMPLE)
    assert run.returncode == 0 and run.stdout.startswith("confirmed:"), run.stderr
    ledger = json.loads(published.read_text(encoding="utf-8"))
    department = next(d for d in ledger["departments"] if d["department"] == "市住房建设局")
    case = department["cases"][0]
    line = case["lines"][0]
    line["points"] += 3
    case["total"] += 3
    department["total"] = 99
    edited = tmp_path / "claimed.json"
    edited.write_text(json.dumps(ledger, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    run = scoring("verify", edited, *RULES, "--cases", SAMPLE, "--format", "json")
    assert run.returncode == 1
    rows = json.loads(run.stdout)["differences"]
    assert {"department": "市住房建设局", "case": None, "criterion": None, "rule": None, "what": "total",
            "claimed": 99, "found": json.loads(published.read_text(encoding="utf-8"))["departments"][13]["total"],
            "text": None} in rows
    assert any(r["case"] == case["case"] and r["criterion"] == line["criterion"] and r["claimed"] == line["points"]
               and r["found"] == line["points"] - 3 for r in rows)
    table = scoring("verify", edited, *RULES, "--cases", SAMPLE)
    assert table.stdout.startswith("NOT confirmed:") and "市住房建设局" in table.stdout
    # what differs is named in the table's words, not as the JSON's ids ("total", "line changed")
    rows = [line.split() for line in table.stdout.splitlines() if line.startswith("市住房建设局")]
    assert rows[0][:3] == ["市住房建设局", "总分", "99"] and any("账目修改" in row for row in rows[1:]), rows
    assert not re.search(r"\b(total|line changed|case total)\b", table.stdout)


def test_verify_a_self_assessment(tmp_path):
    args = ("--department", "市市场监管局", "--as-of", "2020-09-30")
    made = scoring("self-check", *RULES, "--cases", SAMPLE, *args, "--format", "json", "--out", tmp_path / "self.json")
    assert made.returncode == 0, made.stderr
    run = scoring("verify", tmp_path / "self.json", *RULES, "--cases", SAMPLE)
    assert run.returncode == 0 and run.stdout.startswith("confirmed:"), run.stdout + run.stderr
    claimed = json.loads((tmp_path / "self.json").read_text(encoding="utf-8"))
    floor = claimed["floor"]
    claimed["floor"], claimed["ceiling"] = 100, 100  # the seed's department claimed full marks
    (tmp_path / "self.json").write_text(json.dumps(claimed, ensure_ascii=False), encoding="utf-8")
    run = scoring("verify", tmp_path / "self.json", *RULES, "--cases", SAMPLE, "--format", "json")
    assert run.returncode == 1
    rows = {r["what"]: r for r in json.loads(run.stdout)["differences"]}
    assert rows["floor"]["claimed"] == 100 and rows["floor"]["found"] == floor
    assert rows["ceiling"]["claimed"] == 100


def test_verify_refuses_a_ledger_of_another_rulebook_version_or_other_cases(recorded, tmp_path):
    run = scoring("verify", recorded["folder"] / "ledger-2.json", *RULES, "--cases", SAMPLE)
    assert run.returncode == 2
    assert "made with proposal-handling version 1.0.0+phone-waiver.1.0.0, not version 1.0.0" in run.stderr
    edited = tmp_path / "edited.toml"
    edited.write_text(REFERENCE.read_text(encoding="utf-8").replace("sign_points = 5", "sign_points = 6"), encoding="utf-8")
    run = scoring("verify", recorded["folder"] / "ledger-1.json", "--rules", edited, "--cases", SAMPLE)
    assert run.returncode == 2 and "edited without a new version" in run.stderr
    fewer = tmp_path / "fewer.jsonl"
    fewer.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8")
    run = scoring("verify", recorded["folder"] / "ledger-1.json", *RULES, "--cases", fewer)
    assert run.returncode == 2 and "made from other case histories" in run.stderr


# ---------------------------------------------------------------- reproducibility

def test_an_overlaid_ledger_is_the_same_bytes_in_another_process_whatever_the_input_order(recorded, tmp_path):
    run = scoring("score", *RULES, "--overlay", WAIVER, "--cases", shuffled_sample(tmp_path, 11), "--format", "json",
                  "--jobs", "1")
    assert run.returncode == 0, run.stderr
    assert run.stdout == (recorded["folder"] / "ledger-2.json").read_text(encoding="utf-8")


def test_every_command_that_takes_rules_takes_overlays(tmp_path):
    explain = scoring("explain", *RULES, "--overlay", WAIVER, "--cases", SAMPLE, "--department", "市市场监管局",
                      "--case", "2020-T0078")
    assert explain.returncode == 0 and "L2-waived" in explain.stdout
    check = scoring("self-check", *RULES, "--overlay", WAIVER, "--set", "f2f_points=4", "--cases", SAMPLE,
                    "--department", "市市场监管局", "--as-of", "2020-09-30", "--format", "json")
    assert check.returncode == 0
    assert json.loads(check.stdout)["rulebook"]["version"] == "1.0.0+phone-waiver.1.0.0+set(f2f_points=4)"
    shown = scoring("rules", "show", REFERENCE)
    assert shown.stdout == REFERENCE.read_text(encoding="utf-8")
    bad = scoring("score", *RULES, "--overlay", REFERENCE, "--cases", SAMPLE)
    assert bad.returncode == 2 and "this is a rulebook, not an overlay" in bad.stderr


# ---------------------------------------------------------------- found in review: each once broke

def test_a_run_with_skipped_cases_replays_and_verifies_from_anywhere(tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    bad = tmp_path / "with-bad.jsonl"
    bad.write_text("".join(lines[:5]) + '{"id": "X-1", "kind": "proposal"}\n' + "".join(lines[5:40]), encoding="utf-8")
    store = tmp_path / "runs.db"
    run = scoring("score", *RULES, "--cases", bad.name, "--skip-invalid", "--record", "--store", store, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    run_id = run.stderr.split("recorded run ")[1].split()[0]
    assert scoring("replay", run_id, "--store", store).stdout.startswith("reproduced:")
    out = tmp_path / "export"
    assert scoring("runs", "export", run_id, "--out", out, "--store", store).returncode == 0
    verify = json.loads((out / "run.json").read_text(encoding="utf-8"))["verify"].split()[1:]
    assert scoring(*verify, cwd=out).stdout.startswith("confirmed:")


def test_odd_tampering_is_reported_not_crashed_on(recorded, tmp_path):
    for sql in ("UPDATE runs SET record = 'null' WHERE seq = 2", "UPDATE runs SET record = CAST(record AS BLOB) WHERE seq = 1",
                "UPDATE blobs SET content = CAST(content AS TEXT)"):
        store = store_copy(recorded, tmp_path)
        tamper(store, sql)
        for command in (("runs", "check"), ("replay", recorded["base"])):
            run = scoring(*command, "--store", store)
            assert run.returncode in (1, 2) and "Traceback" not in run.stderr, (sql, command, run.stderr)
        assert "Traceback" not in scoring("runs", "list", "--store", store).stderr  # lists records, reads no content
        assert "the append-only triggers were removed" in scoring("runs", "check", "--store", store).stderr


def test_the_full_hash_names_a_run_and_short_prefixes_say_why_not(recorded):
    shown = json.loads(scoring("runs", "show", recorded["base"], "--store", recorded["store"], "--format", "json").stdout)
    assert scoring("runs", "show", shown["hash"], "--store", recorded["store"]).returncode == 0
    short = scoring("runs", "show", recorded["base"][:3], "--store", recorded["store"])
    assert short.returncode == 2 and "give at least 4 characters" in short.stderr


def test_out_into_a_missing_directory_is_refused_before_anything_is_recorded(tmp_path):
    store = tmp_path / "runs.db"
    run = scoring("score", *RULES, "--cases", SAMPLE, "--record", "--store", store, "--out", tmp_path / "nodir" / "x.txt")
    assert run.returncode == 2 and "does not exist; nothing was written" in run.stderr and not store.exists()


def test_malformed_ledgers_and_mistyped_names_get_clear_errors(recorded, tmp_path):
    ledger = json.loads((recorded["folder"] / "ledger-1.json").read_text(encoding="utf-8"))
    ledger["departments"][3] = None
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(ledger, ensure_ascii=False), encoding="utf-8")
    run = scoring("verify", broken, *RULES, "--cases", SAMPLE)
    assert run.returncode == 2 and "not a complete ledger" in run.stderr and "Traceback" not in run.stderr
    run = scoring("diff", "ledger-1.jsn", broken, cwd=recorded["folder"])
    assert run.returncode == 2 and "ledger-1.jsn: no such ledger file" in run.stderr


def test_verify_names_a_changed_case_total(recorded, tmp_path):
    ledger = json.loads((recorded["folder"] / "ledger-1.json").read_text(encoding="utf-8"))
    case = ledger["departments"][2]["cases"][0]
    case["total"] -= 7
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(ledger, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    rows = json.loads(scoring("verify", edited, *RULES, "--cases", SAMPLE, "--format", "json").stdout)["differences"]
    assert [(r["department"], r["case"], r["what"], r["claimed"]) for r in rows] == [
        (ledger["departments"][2]["department"], case["case"], "case total", case["total"])]


def test_settings_in_any_order_make_the_same_rulebook():
    one = scoring("rules", "show", REFERENCE, "--set", "sign_points=4", "--set", "co_points=90")
    two = scoring("rules", "show", REFERENCE, "--set", "co_points=90", "--set", "sign_points=4")
    assert one.returncode == 0 and one.stdout == two.stdout and "set(co_points=90,sign_points=4)" in one.stdout
    bad = scoring("rules", "show", REFERENCE, "--set", "sign_points=nan")
    assert bad.returncode == 2 and "--set: sign_points: NaN is not a finite number" in bad.stderr
