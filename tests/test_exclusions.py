"""Exclusions (剔除) and appeals (申诉): decisions that take cases out of a department's assessment.

A granted decision must score exactly as the case file with that department taken out of the
case by hand; a rejected one must change nothing; every decision and its effect is in the
ledger; a bad decisions file is refused line by line; a recorded run keeps the file and
replays it byte for byte.
"""
from __future__ import annotations

import json
import random
import re

from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring

from scoring.domain.cases import natural_key

CASES = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:60]]


def written(path, records: list[dict]):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def shared_case() -> tuple[dict, str, str]:
    """A case with two handlers: (case, a department to take out, the department that stays)."""
    found = next(c for c in CASES if len({h["department"] for h in c["handlers"]}) >= 2)
    return found, found["handlers"][0]["department"], found["handlers"][1]["department"]


def decision(case: str, department: str | None = None, kind: str = "exclusion", decision: str = "approved", **more) -> dict:
    entry = {"case": case, "kind": kind, "decision": decision, "reason": "不属于本单位职责", "decided_by": "市政府督查室",
             "decided_on": "2020-07-01", **more}
    return entry if department is None else {"department": department, **entry}


def ledger(tmp_path, cases, *more) -> dict:
    run = scoring("score", "--rules", REFERENCE, "--cases", written(tmp_path / "cases.jsonl", cases), "--format", "json",
                  "--jobs", "0", *more)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_a_granted_exclusion_scores_as_the_file_without_that_handler(tmp_path):
    case, gone, stays = shared_case()
    decisions = written(tmp_path / "decisions.jsonl", [decision(case["id"], gone)])
    found = ledger(tmp_path, CASES, "--exclusions", decisions)
    # the same case file with the department taken out of the case by hand
    by_hand = [c if c["id"] != case["id"] else
               {**c, "handlers": [h for h in c["handlers"] if h["department"] != gone],
                "events": [e for e in c["events"] if e["department"] != gone]} for c in CASES]
    expected = ledger(tmp_path, by_hand)
    assert found["departments"] == expected["departments"]
    assert found["input"] == expected["input"]
    # and the ledger says what the decision changed, against the file as given
    whole = {d["department"]: d for d in ledger(tmp_path, CASES)["departments"]}
    now = {d["department"]: d for d in found["departments"]}
    assert found["exclusions"]["decisions"] == [{k: decision(case["id"], gone)[k] for k in (
        "case", "department", "kind", "decision", "reason", "decided_by", "decided_on")}]
    assert found["exclusions"]["effect"] == [{
        "department": gone, "excluded": 1, "total": now[gone]["total"] if gone in now else None,
        "rank": now[gone]["rank"] if gone in now else None,
        "total_without": whole[gone]["total"], "rank_without": whole[gone]["rank"]}]
    assert stays in now  # the other handler keeps the case


def test_a_whole_case_exclusion_takes_it_from_every_handler_and_a_rejected_one_changes_nothing(tmp_path):
    case, gone, stays = shared_case()
    decisions = written(tmp_path / "decisions.jsonl", [decision(case["id"]), decision(CASES[-1]["id"], kind="appeal",
                                                                                      decision="rejected")])
    found = ledger(tmp_path, CASES, "--exclusions", decisions)
    expected = ledger(tmp_path, [c for c in CASES if c["id"] != case["id"]])
    assert found["departments"] == expected["departments"]
    assert sorted(e["department"] for e in found["exclusions"]["effect"]) == sorted({gone, stays})
    listed = [(d["case"], d["kind"], d["decision"]) for d in found["exclusions"]["decisions"]]
    assert listed == sorted([(case["id"], "exclusion", "approved"), (CASES[-1]["id"], "appeal", "rejected")],
                            key=lambda entry: natural_key(entry[0]))
    # only rejected decisions: the scores of the file as given, and every request still listed
    written(tmp_path / "decisions.jsonl", [decision(case["id"], decision="rejected")])
    refused = ledger(tmp_path, CASES, "--exclusions", decisions)
    assert refused["departments"] == ledger(tmp_path, CASES)["departments"]
    assert [d["decision"] for d in refused["exclusions"]["decisions"]] == ["rejected"]
    assert refused["exclusions"]["effect"] == []


def test_the_ledger_is_the_same_whatever_the_order_of_the_decisions(tmp_path):
    picked = [c["id"] for c in CASES[5:15]]
    decisions = [decision(case, decision=random.Random(i).choice(["approved", "rejected"]), decided_on=f"2020-07-{10 + i}")
                 for i, case in enumerate(picked)]
    first = ledger(tmp_path, CASES, "--exclusions", written(tmp_path / "a.jsonl", decisions))
    random.Random(7).shuffle(decisions)
    second = ledger(tmp_path, CASES, "--exclusions", written(tmp_path / "b.jsonl", [
        {key: d[key] for key in reversed(list(d))} for d in decisions]))
    assert first == second
    assert [d["case"] for d in first["exclusions"]["decisions"]] == picked


def test_explain_shows_the_departments_decisions_and_what_they_changed(tmp_path):
    case, gone, _ = shared_case()
    decisions = written(tmp_path / "decisions.jsonl", [decision(case["id"], gone)])
    cases = written(tmp_path / "cases.jsonl", CASES)
    run = scoring("explain", "--rules", REFERENCE, "--cases", cases, "--exclusions", decisions, "--department", gone)
    assert run.returncode == 0, run.stderr
    assert f"  {case['id']}  {gone} 剔除申请·已批准  不属于本单位职责（市政府督查室 2020-07-01）" in run.stdout
    assert re.search(r"  不计入考核 1 件：.*；全部计入则总分 [\d.]+、排名 \d+。", run.stdout)
    assert "1 case(s) taken out of the assessment by decision, 0 request(s) rejected" in run.stderr
    document = json.loads(scoring("explain", "--rules", REFERENCE, "--cases", cases, "--exclusions", decisions,
                                  "--department", gone, "--format", "json").stdout)
    assert [e["department"] for e in document["exclusions"]["effect"]] == [gone]


def test_every_problem_of_a_decisions_file_is_named_by_line_and_field(tmp_path):
    case, gone, _ = shared_case()
    other = next(c for c in CASES if gone not in {h["department"] for h in c["handlers"]})
    lines = [
        decision(case["id"], gone),  # 1: fine
        decision(case["id"], gone),  # 2: granted twice
        decision("2020-J9999"),  # 3: no such case
        decision(other["id"], gone),  # 4: not a handler
        decision(case["id"], kind="appeal", decision="approved"),  # 5: an appeal is upheld, not approved
        decision(case["id"], kind="complaint"),  # 6
        {**decision(case["id"], decision="rejected"), "decided_on": "2020-06-31"},  # 7: impossible date
        {**decision(case["id"], decision="rejected"), "reson": "x"},  # 8: unknown field
        {k: v for k, v in decision(case["id"], decision="rejected").items() if k != "reason"},  # 9: missing
    ]
    path = tmp_path / "decisions.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines) + "{not json\n", encoding="utf-8")
    run = scoring("score", "--rules", REFERENCE, "--cases", written(tmp_path / "cases.jsonl", CASES),
                  "--exclusions", path)
    assert run.returncode == 2 and run.stdout == ""
    problems = run.stderr.splitlines()
    assert problems[0] == f"error: {path}: 9 problem(s) in the exclusions and appeals; nothing was scored:"
    by_line = {int(re.match(rf"  {re.escape(str(path))}:(\d+):", p)[1]): p for p in problems[1:]}
    assert sorted(by_line) == list(range(2, 11))
    assert "already taken out of the assessment by the decision on line 1" in by_line[2]
    assert "no case 2020-J9999 in the case file" in by_line[3]
    assert f"{gone} does not handle case {other['id']}; its handlers: " in by_line[4]
    assert 'an appeal is upheld or rejected, not "approved"' in by_line[5]
    assert '"complaint" is not a kind of decision' in by_line[6]
    assert 'decided_on: "2020-06-31" is not a valid date' in by_line[7]
    assert 'reson: not a field of a decision (did you mean "reason"?)' in by_line[8]
    assert "reason: required" in by_line[9]
    assert "not valid JSON" in by_line[10]


def test_a_recorded_run_keeps_its_decisions_replays_them_and_exports_them(tmp_path):
    case, gone, _ = shared_case()
    decisions = written(tmp_path / "decisions.jsonl", [decision(case["id"], gone)])
    cases = written(tmp_path / "cases.jsonl", CASES)
    store = tmp_path / "runs.db"
    recorded = scoring("score", "--rules", REFERENCE, "--cases", cases, "--exclusions", decisions, "--record",
                       "--store", store, "--format", "json")
    assert recorded.returncode == 0, recorded.stderr
    run_id = re.search(r"recorded run ([0-9a-f]+)", recorded.stderr)[1]
    replayed = scoring("replay", run_id, "--store", store)
    assert replayed.returncode == 0 and "reproduced" in replayed.stdout, replayed.stdout + replayed.stderr
    assert scoring("runs", "check", "--store", store).returncode == 0
    exported = tmp_path / "export"
    assert scoring("runs", "export", run_id, "--store", store, "--out", exported).returncode == 0
    manifest = json.loads((exported / "run.json").read_text(encoding="utf-8"))
    assert (exported / "exclusions.jsonl").read_bytes() == decisions.read_bytes()
    assert manifest["verify"].endswith("--exclusions exclusions.jsonl")
    (tmp_path / "ledger.json").write_text(recorded.stdout, encoding="utf-8")
    # verified with the decisions; without them the scored cases are not the ledger's
    assert scoring("verify", tmp_path / "ledger.json", "--rules", REFERENCE, "--cases", cases,
                   "--exclusions", decisions).returncode == 0
    refused = scoring("verify", tmp_path / "ledger.json", "--rules", REFERENCE, "--cases", cases)
    assert refused.returncode == 2 and "made from other case histories" in refused.stderr


def test_self_check_and_bulletin_judge_the_cases_left_and_say_which_decisions(tmp_path):
    case, gone, _ = shared_case()
    decisions = written(tmp_path / "decisions.jsonl", [decision(case["id"], gone)])
    cases = written(tmp_path / "cases.jsonl", CASES)
    by_hand = written(tmp_path / "by-hand.jsonl", [c if c["id"] != case["id"] else
                                                   {**c, "handlers": [h for h in c["handlers"] if h["department"] != gone],
                                                    "events": [e for e in c["events"] if e["department"] != gone]}
                                                   for c in CASES])
    base = ("--rules", REFERENCE, "--department", gone, "--as-of", "2020-06-30", "--format", "json")
    found = json.loads(scoring("self-check", *base, "--cases", cases, "--exclusions", decisions).stdout)
    expected = json.loads(scoring("self-check", *base, "--cases", by_hand).stdout)
    digest = json.loads(scoring("score", "--rules", REFERENCE, "--cases", cases, "--exclusions", decisions,
                                "--format", "json").stdout)["exclusions"]["sha256"]
    assert found["input"].pop("exclusions_sha256") == digest
    assert found == expected
    (tmp_path / "check.json").write_text(json.dumps({**found, "input": {**found["input"], "exclusions_sha256": digest}},
                                                    ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    verified = scoring("verify", tmp_path / "check.json", "--rules", REFERENCE, "--cases", cases, "--exclusions", decisions)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    month = json.loads(scoring("bulletin", "--rules", REFERENCE, "--cases", cases, "--exclusions", decisions,
                               "--month", "2020-06", "--format", "json", "--jobs", "0").stdout)
    assert month["input"]["exclusions_sha256"] == digest


def test_a_department_whose_every_case_is_taken_out_is_not_scored_and_says_so(tmp_path):
    counts = {}
    for c in CASES:
        for h in c["handlers"]:
            counts.setdefault(h["department"], []).append(c["id"])
    department, its_cases = min(counts.items(), key=lambda item: (len(item[1]), item[0]))
    decisions = written(tmp_path / "decisions.jsonl", [decision(c, department) for c in its_cases])
    found = ledger(tmp_path, CASES, "--exclusions", decisions)
    assert department not in {d["department"] for d in found["departments"]}
    effect = found["exclusions"]["effect"]
    assert [(e["department"], e["excluded"], e["total"], e["rank"]) for e in effect] == [(department, len(its_cases), None, None)]
    assert effect[0]["total_without"] is not None


def test_the_readme_shows_what_explain_prints_with_the_sample_decisions():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Exclusions and appeals"):readme.index("## Writing rules")]
    shown = re.findall(r"^```\n(市交通运输局.*?)^```", section, re.M | re.S)[0]
    run = scoring("explain", "--rules", REFERENCE, "--cases", SAMPLE, "--exclusions", ROOT / "samples" / "decisions-2020.jsonl",
                  "--department", "市交通运输局")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(shown)


def test_only_the_first_unknown_cases_get_a_closest_id(tmp_path):
    """Each hint compares an id with every id of the file: a file of many unknown ids is refused quickly."""
    from scoring.inputs.exclusions import MAX_HINTS
    unknown = [decision(f"{CASES[0]['id']}x{n}") for n in range(MAX_HINTS + 5)]
    run = scoring("score", "--rules", REFERENCE, "--cases", written(tmp_path / "cases.jsonl", CASES),
                  "--exclusions", written(tmp_path / "decisions.jsonl", unknown))
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if "in the case file" in line]
    assert len(lines) == MAX_HINTS + 5
    assert sum("did you mean" in line for line in lines) == MAX_HINTS
