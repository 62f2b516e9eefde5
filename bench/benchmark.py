"""Benchmark: score N synthetic cases and compare with a hand-written durable_rules ruleset.

    python bench/benchmark.py 10000 [--jobs 2] [--seed 1]

Prints, for the same synthetic year:
  * the engine (rules/proposal-handling.toml compiled) in this process, single core;
  * the engine through worker processes (--jobs), as the CLI runs it;
  * a hand-written durable_rules ruleset of the same reference rules, driven through
    durable's own Host API (its timer threads disabled), with points computed in Python
    actions: the baseline. Its department totals must equal the engine's, or the
    benchmark says so and exits 1;
  * memory: resident memory while the single-core run goes on (it must stay flat: a
    session per case and handler, deleted after use) and the peak of each part.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from randomcases import random_cases  # noqa: E402  (the tests' generator of valid random years)

from scoring.domain.cases import Case, natural_key  # noqa: E402
from scoring.domain.workdays import WorkCalendar  # noqa: E402
from scoring.engine.compiler import load_compiled  # noqa: E402
from scoring.engine.evaluate import CaseEvaluator  # noqa: E402
from scoring.engine.rollup import roll_up  # noqa: E402
from scoring.engine.runner import score_cases  # noqa: E402
from scoring.lang.values import add_months  # noqa: E402

REFERENCE = ROOT / "rules" / "proposal-handling.toml"


def rss_mb() -> float:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


# ---------------------------------------------------------------- the engine
def engine_single(cases: list[Case]):
    evaluator = CaseEvaluator(load_compiled(REFERENCE))
    samples = []
    results = []
    checkpoints = {max(1, len(cases) * k // 10) for k in range(1, 11)}
    start = time.perf_counter()
    for number, case in enumerate(cases, start=1):
        results.extend(evaluator.evaluate(case))
        if number in checkpoints:
            samples.append((number, rss_mb()))
    seconds = time.perf_counter() - start
    return results, seconds, samples, evaluator


def engine_memory_only(cases: list[Case], evaluator: CaseEvaluator):
    """Resident memory while scoring without keeping results: the engine's own footprint."""
    samples = []
    checkpoints = {max(1, len(cases) * k // 5) for k in range(1, 6)}
    for number, case in enumerate(cases, start=1):
        evaluator.evaluate(case)
        if number in checkpoints:
            samples.append((number, rss_mb()))
    return samples


# ---------------------------------------------------------------- the baseline
def baseline(cases: list[Case]):
    """The reference rules hand-written for durable_rules (JSON rulesets, Host API)."""
    from durable import engine as durable

    calendar = WorkCalendar()
    fired: list[tuple[str, dict]] = []

    def capture(name):
        def action(c):
            # copy what the points need now: the action's context is only valid here
            data = {}
            for alias in ("g", "c", "r", "f", "p", "x", "u"):
                value = getattr(c, alias, None)
                if value is not None:
                    data[alias] = {"day": value.day, "mode": value.mode, "outcome": value.outcome, "rating": value.rating}
            fired.append((name, data))
        return action

    class Host(durable.Host):
        def _run(self):  # no timer threads: they crash long runs (see scoring/engine.py)
            pass

        def get_action(self, name):
            return capture(name)

    end = {"z": {"t": "end"}}
    ctx = {"h": {"t": "ctx"}}

    def ev(alias, kind, *extra):
        return {alias: {"$and": [{"k": kind}] + list(extra)}}

    def no_earlier(alias, kind, ref):
        return {alias + "$not": {"$and": [{"k": kind}, {"$lt": {"o": {ref: "o"}}}, {"$and": [{"k": kind}]}]}}

    def no_later(alias, kind, ref):
        return {alias + "$not": {"$and": [{"k": kind}, {"$gt": {"o": {ref: "o"}}}, {"$and": [{"k": kind}]}]}}

    rules = {
        # not "s": on durable's action context c.s is the session state (a reserved name)
        "L1": {"all": [ctx, ev("g", "signed"), end, no_earlier("g2", "signed", "g")]},
        "L2f": {"all": [ctx, ev("c", "contact", {"mode": "face_to_face"}), end]},
        "L2o": {"all": [ctx, ev("c", "contact", {"$neq": {"mode": "face_to_face"}}), end]},
        "L3": {"all": [ctx, ev("r", "reply"), end, no_earlier("r2", "reply", "r"),
                       {"c$not": {"$and": [{"k": "contact"}, {"$lte": {"day": {"r": "day"}}}, {"$and": [{"k": "contact"}]}]}}]},
        "L4": {"all": [ctx, ev("r", "reply"), end, no_earlier("r2", "reply", "r")]},
        "L5": {"all": [ctx, ev("r", "reply"), end, no_later("r2", "reply", "r")]},
        "L6": {"all": [ctx, ev("f", "feedback"), end, no_later("f2", "feedback", "f")]},
        "L7": {"all": [ctx, ev("p", "published"), end]},
        "H1": {"all": [ctx, ev("x", "co_reply"), end, no_earlier("x2", "co_reply", "x")]},
        "D1": {"all": [ctx, ev("u", "urged"), end]},
        "D2": {"all": [ctx, ev("c", "contact", {"mode": "face_to_face"}), end]},
        "done": {"all": [end]},
        "all_events": {"all": [{"m": {"t": "ev"}}, {"n": {"t": "never"}}]},  # every fact is handled
    }
    for name, rule in rules.items():
        rule["run"] = name
    host = Host({"baseline": rules})

    outcome_points = {"A": 30, "B": 24, "C": 15, "D": 9}
    rating_points = {"satisfied": 30, "basically_satisfied": 20, "dissatisfied": 0}
    per_handler = []
    start = time.perf_counter()
    for case in cases:
        for handler in case.handlers:
            events = sorted((e for e in case.events if e.department == handler.department),
                            key=lambda e: (e.date, natural_key(e.id)))
            assigned = next(e.date for e in events if e.type == "assigned")
            replies = [e.date for e in events if e.type == "reply"]
            reply_due = add_months(assigned, 3) + dt.timedelta(days=sum(e.days for e in events if e.type == "extension"))
            facts = [{"id": "h", "sid": "1", "t": "ctx"}]
            facts += [{"id": str(i), "sid": "1", "t": "ev", "k": e.type, "o": i, "day": e.date.toordinal(),
                       **({"mode": e.mode} if e.mode else {}), **({"outcome": e.outcome} if e.outcome else {}),
                       **({"rating": e.rating} if e.rating else {})} for i, e in enumerate(events)]
            facts.append({"id": "end", "sid": "1", "t": "end"})
            fired.clear()
            host.assert_facts("baseline", facts)
            host.delete_state("baseline", "1")
            items = {"L1": 0, "L2f": 0, "L2o": 0, "L3": 0, "L4": 0, "L5": 0, "L6": 0, "L7": 0, "H1": 0, "D1": 0, "D2": False}
            cutoff = replies[0].toordinal() if replies else 10**9
            for name, data in fired:
                if name == "L1" and data["g"]["day"] <= calendar.add_workdays(assigned, 3).toordinal():
                    items["L1"] = 5
                elif name == "L2f" and data["c"]["day"] <= cutoff:
                    items["L2f"] = 5
                elif name == "L2o" and data["c"]["day"] <= cutoff:
                    items["L2o"] += Fraction(5, 2)
                elif name == "L3":
                    items["L3"] = -5
                elif name == "L4":
                    replied = dt.date.fromordinal(data["r"]["day"])
                    items["L4"] = 20 if replied <= reply_due else max(0, 20 - 2 * calendar.workdays_between(reply_due, replied))
                elif name == "L5":
                    items["L5"] = outcome_points[data["r"]["outcome"]]
                elif name == "L6":
                    items["L6"] = rating_points[data["f"]["rating"]]
                elif name == "L7" and replies and data["p"]["day"] <= calendar.add_workdays(replies[0], 20).toordinal():
                    items["L7"] = 10
                elif name == "H1":
                    due = add_months(assigned, 1)
                    replied = dt.date.fromordinal(data["x"]["day"])
                    items["H1"] = 100 if replied <= due else max(0, 100 - 10 * calendar.workdays_between(due, replied))
                elif name == "D1":
                    items["D1"] -= 1
                elif name == "D2":
                    items["D2"] = True
            lead = handler.role in ("lead", "split")
            total = (min(100, max(0, items["L1"] + (items["L2f"] or min(5, items["L2o"])) + items["L3"] + items["L4"]
                                  + items["L5"] + items["L6"] + items["L7"])) if lead else items["H1"])
            per_handler.append((handler.department, lead, total, items["D1"], items["D2"]))
    seconds = time.perf_counter() - start
    return per_handler, seconds


def baseline_departments(per_handler) -> dict[str, Fraction]:
    from scoring.lang.values import round_half_up
    grouped: dict[str, list] = {}
    for row in per_handler:
        grouped.setdefault(row[0], []).append(row)
    totals = {}
    for name, rows in grouped.items():
        lead = [r[2] for r in rows if r[1]]
        co = [r[2] for r in rows if not r[1]]
        means = [(Fraction(7, 10), Fraction(sum(lead), len(lead))) if lead else None,
                 (Fraction(3, 10), Fraction(sum(co), len(co))) if co else None]
        present = [m for m in means if m]
        base = sum(w * m for w, m in present) / sum(w for w, _ in present)
        d1 = max(-5, sum(r[3] for r in rows))
        d2 = -min(5, 10 * (1 - Fraction(sum(1 for r in rows if r[1] and r[4]), len(lead)))) if lead else 0
        totals[name] = round_half_up(min(100, max(0, base + d1 + d2)))
    return totals


# ---------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", type=int, nargs="?", default=10000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    generated = time.perf_counter()
    cases = [Case.model_validate(c) for c in random_cases(args.seed, args.cases, departments=30)]
    handlers = sum(len(c.handlers) for c in cases)
    print(f"synthetic year: {len(cases)} cases, {handlers} case-handler evaluations, "
          f"{sum(len(c.events) for c in cases)} events (generated in {time.perf_counter() - generated:.1f} s)")

    base_rss = rss_mb()
    results, single_s, samples, evaluator = engine_single(cases)
    engine_peak = peak_mb()
    memory_only = engine_memory_only(cases[: min(len(cases), 20000)], evaluator)
    departments = roll_up(evaluator.c, results)

    start = time.perf_counter()
    outcome = score_cases(evaluator.c, cases, jobs=args.jobs)
    pool_s = time.perf_counter() - start
    workers_peak = peak_mb(resource.RUSAGE_CHILDREN)
    pooled = [r for c in cases for r in outcome.results[c.id]]
    pooled_departments = roll_up(evaluator.c, pooled)

    per_handler, baseline_s = baseline(cases)
    expected = baseline_departments(per_handler)

    got = {d.department: d.total for d in departments}
    agree = got == expected and {d.department: d.total for d in pooled_departments} == got and not outcome.failures

    print()
    print(f"{'run':<44}{'seconds':>9}{'cases/s':>10}{'evals/s':>10}{'ratio':>8}")
    rows = [("engine, this process (1 core)", single_s), (f"engine, {args.jobs} worker processes (as the CLI)", pool_s),
            ("hand-written durable_rules ruleset (1 core)", baseline_s)]
    for label, seconds in rows:
        print(f"{label:<44}{seconds:>9.2f}{len(cases) / seconds:>10.0f}{handlers / seconds:>10.0f}{baseline_s / seconds:>8.2f}")
    print("ratio = baseline seconds / run seconds (above 1: faster than the baseline)")
    print()
    print(f"memory: {base_rss:.0f} MB before scoring; resident while scoring on one core, results kept "
          f"(cases: MB): " + ", ".join(f"{n}: {mb:.0f}" for n, mb in samples))
    print("         resident while scoring more, results dropped (the engine alone): "
          + ", ".join(f"{n}: {mb:.0f}" for n, mb in memory_only))
    print(f"peak resident: this process {engine_peak:.0f} MB; largest worker {workers_peak:.0f} MB")
    print()
    print(f"department totals: engine == workers == hand-written baseline for all {len(expected)} departments: "
          + ("yes" if agree else "NO"))
    if not agree:
        for name in sorted(set(expected) | set(got)):
            if expected.get(name) != got.get(name):
                print(f"  {name}: engine {got.get(name)} baseline {expected.get(name)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
