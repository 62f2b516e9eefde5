"""Worker processes: a native crash is pinned to its case and nothing is lost.

The crash is real: a worker dereferences NULL (SIGSEGV) while scoring a chosen case, as
durable_rules' C code would. The batch function below wraps the real one, so everything
else is the production path.
"""
import ctypes
import faulthandler
import re
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import pytest
from casekit import REFERENCE, SAMPLE

from scoring.base.errors import EngineError
from scoring.engine import runner
from scoring.engine.compiler import load_compiled
from scoring.engine.session import Session
from scoring.inputs.case_file import load_cases

CASES = load_cases(SAMPLE).cases[:60]
COMPILED = load_compiled(REFERENCE)


def crashing_batch(victim, marker, batch):
    """Score a batch; segfault on the victim case (only once if a marker file path is given).

    Bound with functools.partial, so the settings travel with every task, to forked and
    forkserver workers alike."""
    evaluator = runner._evaluator
    if not getattr(evaluator, "crash_armed", False):
        real = evaluator.evaluate

        def evaluate(case):
            if case.id == victim and (not marker or not Path(marker).exists()):
                if marker:
                    Path(marker).touch()
                faulthandler.disable()  # keep pytest's crash dump of the worker out of the output
                ctypes.string_at(0)  # SIGSEGV
            return real(case)
        evaluator.evaluate = evaluate
        evaluator.crash_armed = True
    return runner._score_batch(batch)


def totals(outcome):
    return {case_id: [(r.department, r.total, [(line.criterion, line.points, line.text) for line in r.lines]) for r in results]
            for case_id, results in outcome.results.items()}


@pytest.fixture(scope="module")
def in_process():
    return totals(runner.score_cases(COMPILED, CASES, jobs=0))


def test_workers_give_the_same_results_as_in_process(in_process):
    outcome = runner.score_cases(COMPILED, CASES, jobs=2, batch_size=7)
    assert totals(outcome) == in_process and not outcome.failures


def test_a_case_that_crashes_the_engine_is_named_and_the_others_are_scored(in_process):
    victim = CASES[23].id
    crash = partial(crashing_batch, victim, None)
    outcome = runner.score_cases(COMPILED, CASES, jobs=2, batch_size=10, batch_fn=crash)
    assert list(outcome.failures) == [victim]
    assert outcome.failures[victim].kind == "crash"
    expected = {k: v for k, v in in_process.items() if k != victim}
    assert totals(outcome) == expected


@pytest.mark.slow
def test_a_crash_that_does_not_repeat_loses_nothing(tmp_path, in_process):
    victim = CASES[5].id
    crash = partial(crashing_batch, victim, str(tmp_path / "crashed"))
    outcome = runner.score_cases(COMPILED, CASES, jobs=2, batch_size=10, batch_fn=crash)
    # the cases every worker had in progress when one died are scored again alone
    assert not outcome.failures and victim in outcome.recovered and len(outcome.recovered) <= 2
    assert totals(outcome) == in_process


@pytest.mark.slow
def test_a_crash_stops_the_run_with_the_case_id(monkeypatch, tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:30]) + "\n", encoding="utf-8")
    case_file = load_cases(cases)
    victim = case_file.cases[4].id
    real_score_cases = runner.score_cases
    crash = partial(crashing_batch, victim, None)
    monkeypatch.setattr("scoring.engine.session.score_cases", lambda *a, **k: real_score_cases(*a, **{**k, "batch_fn": crash}))
    with pytest.raises(EngineError) as info:
        Session(COMPILED, jobs=2).run(case_file)
    assert f"case {victim}: crash" in str(info.value)
    skipped = Session(COMPILED, jobs=2).run(case_file, skip_invalid=True)
    assert [s["case"] for s in skipped.ledger["input"]["skipped"]] == [victim]
    assert skipped.ledger["input"]["cases"] == 29


def test_scoring_creates_no_reference_cycles():
    """The runner pauses Python's cycle collector during a run (in the workers too);
    that is only right while scoring leaves nothing for it to collect."""
    import gc

    from casekit import evaluator_for, reference_text
    evaluator = evaluator_for(reference_text())
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for case in CASES:
            evaluator.evaluate(case)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_an_input_error_raised_in_a_worker_arrives_whole():
    """Errors cross from worker processes by pickling: every problem and the summary survive."""
    import pickle

    from scoring.base.errors import InputError, Problem
    from scoring.base.files import FileError
    for error in (InputError([Problem("a.jsonl", 3, "case C1", "bad"), Problem("a.jsonl", 4, "", "worse")], "2 found"),
                  FileError([Problem("b.jsonl", None, "", "cannot read the case file: No such file or directory")])):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and back.problems == error.problems and str(back) == str(error)


def _slow_square_or_fail(n):
    import time
    if n in (3, 5):
        time.sleep(0.05 * (6 - n))  # 5 fails first in time, 3 first in order
        raise ValueError(f"item {n}")
    return n * n


def test_map_in_workers_keeps_the_order_and_raises_the_first_items_error():
    assert runner.map_forked(_slow_square_or_fail, [0, 1, 2], workers=2) == [0, 1, 4]
    for workers in (1, 2):  # in this process, and in two workers: the same error
        with pytest.raises(ValueError, match="item 3"):
            runner.map_forked(_slow_square_or_fail, list(range(7)), workers=workers)


def test_map_in_workers_names_what_a_crash_left_unfinished():
    """In a child process of its own: when this process has other threads (a browser test's),
    map_forked works in process instead of forking, and the crash would end the test run."""
    code = textwrap.dedent("""
        import ctypes, faulthandler
        from scoring.base.errors import EngineError
        from scoring.engine.runner import map_forked

        def segfault_on_four(n):
            if n == 4:
                faulthandler.disable()
                ctypes.string_at(0)
            return n

        try:
            map_forked(segfault_on_four, list(range(6)), workers=2)
        except EngineError as error:
            print(error)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.search(r"crashed while working on .*\b4\b", done.stdout), done.stdout
