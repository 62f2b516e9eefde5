"""Score many cases in worker processes; a native crash is caught, pinned to its case, retried.

durable_rules is a C library: a bug in it kills the process, not just the call. So
cases are scored in worker processes (which also uses every core), in batches. Each
worker records in shared memory the case it is working on. When a worker dies, the
cases it (or any worker, since the pool stops) was in the middle of are scored again,
each alone in a fresh process; a case that crashes alone again is reported by id. The
other cases of the broken batches are simply scored again. Nothing is lost and nothing
is silently skipped: every case ends scored, failed with its reason, or crashed.
"""
from __future__ import annotations

import gc
import multiprocessing as mp
import os
import threading
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field

from scoring.base.errors import EngineError
from scoring.base.progress import report as report_progress
from scoring.domain.cases import Case
from scoring.domain.workdays import CalendarCoverageError
from scoring.rulebook.load import parse_rulebook

from .compiler import CompiledRulebook, compile_rulebook
from .evaluate import CaseError, CaseEvaluator, HandlerResult, ScoringSetting

BATCH_SIZE = 200


@dataclass(frozen=True)
class CaseFailure:
    case: str
    kind: str  # "data" (a rule failed on the case's data), "calendar", "engine", "crash", "internal"
    message: str


@dataclass
class RunOutcome:
    results: dict[str, list[HandlerResult]] = field(default_factory=dict)  # case id -> its handlers
    failures: dict[str, CaseFailure] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)  # in progress when a worker died; then scored alone


def score_cases(compiled: CompiledRulebook, cases: list[Case], jobs: int = 0, setting: ScoringSetting | None = None,
                batch_size: int = BATCH_SIZE, batch_fn=None, evaluator: CaseEvaluator | None = None) -> RunOutcome:
    """Score cases in their setting; jobs=0 scores in this process (no crash isolation) with `evaluator`,
    made if not given."""
    setting = setting or ScoringSetting()
    batch_fn = batch_fn or _score_batch
    if jobs <= 0:
        global _evaluator, _cases
        own = evaluator is None
        _evaluator = CaseEvaluator(compiled) if own else evaluator
        _evaluator.configure(setting)
        _cases = dict(enumerate(cases))
        try:
            outcome = RunOutcome()
            _merge(outcome, batch_fn(list(range(len(cases)))))
            return outcome
        finally:
            if own:
                _evaluator.close()
            _evaluator, _cases = None, None
    with _collector_paused():
        return _Pool(compiled, cases, jobs, batch_size, batch_fn, setting).run()


@contextmanager
def _collector_paused():
    """Keep Python's cycle collector off while workers run and results pour in.

    The parent holds every case and receives every result, and each collection walks all
    of them again (15,000 cases: about 8.5 s with it, 6.5 s without). Forked workers start
    with it paused too. Scoring creates no reference cycles (a test checks it), so
    reference counting alone frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Pool:
    def __init__(self, compiled, cases, jobs, batch_size, batch_fn, setting):
        self.compiled, self.cases, self.jobs, self.setting = compiled, cases, jobs, setting
        self.batch_size, self.batch_fn = batch_size, batch_fn
        methods = mp.get_all_start_methods()
        self.context = mp.get_context("fork" if "fork" in methods else "spawn")
        # after a pool breaks, its threads may outlive it: the (few) cases left are then
        # sent to fresh interpreters instead of forked ones
        self.recovery_context = mp.get_context("forkserver" if "forkserver" in methods else "spawn")

    def run(self) -> RunOutcome:
        outcome = RunOutcome()
        indices = list(range(len(self.cases)))
        todo = [indices[i:i + self.batch_size] for i in range(0, len(indices), self.batch_size)]
        # fork only from a single-threaded process: a child forked while another thread
        # holds a lock may deadlock (a caller's earlier pool can leave threads behind)
        context = self.context if threading.active_count() == 1 else self.recovery_context
        while todo:
            broken, in_flight = self._round(todo, outcome, min(self.jobs, len(todo)), context)
            if broken:
                context = self.recovery_context
            done = set(outcome.results) | set(outcome.failures)
            todo = []
            for batch in broken:
                rest = [i for i in batch if i not in in_flight and self.cases[i].id not in done]
                todo.extend(rest[j:j + self.batch_size] for j in range(0, len(rest), self.batch_size))
            for index in sorted(in_flight):
                if self.cases[index].id not in done:
                    self._alone(index, outcome, context)
        return outcome

    def _round(self, batches, outcome, workers, context):
        progress = context.Array("q", workers, lock=False)  # per worker: case index + 1, or 0
        slots = context.Value("i", 0)
        broken = []
        global _cases, _inherited
        # forked workers find the compiled rulebook and the cases in the memory they inherit, so
        # they compile nothing and batches are lists of indices (pickling pydantic models cost as
        # much as scoring them); other workers get the rulebook's text and this round's cases
        _cases, _inherited = self.cases, self.compiled
        if context.get_start_method() == "fork":
            rulebook, needed = None, None
        else:
            rulebook = (self.compiled.book.text.encode("utf-8"), self.compiled.book.path)
            needed = {i: self.cases[i] for b in batches for i in b}
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                                 initargs=(rulebook, (progress, slots), needed, self.setting)) as pool:
            futures = {pool.submit(self.batch_fn, batch): batch for batch in batches}
            for future in as_completed(futures):
                try:
                    _merge(outcome, future.result())
                except BrokenProcessPool:
                    broken.append(futures[future])
                report_progress("scoring cases", len(outcome.results) + len(outcome.failures), len(self.cases))
        in_flight = {value - 1 for value in progress if value} if broken else set()
        return broken, in_flight

    def _alone(self, index: int, outcome: RunOutcome, context) -> None:
        case = self.cases[index]
        broken, _ = self._round([[index]], outcome, 1, context)
        if broken:
            outcome.failures[case.id] = CaseFailure(
                case.id, "crash", "the matching engine (native code) crashed on this case twice, in a batch and alone")
        else:
            outcome.recovered.append(case.id)


def _merge(outcome: RunOutcome, batch_result) -> None:
    for case_id, value in batch_result:
        if isinstance(value, CaseFailure):
            outcome.failures[case_id] = value
        else:
            outcome.results[case_id] = value


# ---------------------------------------------------------------- in the worker
_evaluator: CaseEvaluator | None = None
_cases: list[Case] | dict[int, Case] | None = None  # by index
_inherited: CompiledRulebook | None = None  # the parent's, for forked workers
_progress = None
_slot = 0


def _init(rulebook: tuple[bytes, str] | None, progress, cases, setting: ScoringSetting) -> None:
    """A worker's start: its evaluator, from the inherited compiled rulebook or from the rulebook's text."""
    global _evaluator, _progress, _slot, _cases
    if cases is not None:
        _cases = cases
    # the workers compile the very text the parent checked, not the file read again
    compiled = _inherited if rulebook is None else compile_rulebook(parse_rulebook(*rulebook))
    _evaluator = CaseEvaluator(compiled, setting)
    _progress = None
    if progress is not None:
        array, slots = progress
        with slots.get_lock():
            _slot = slots.value
            slots.value += 1
        _progress = array


def _score_batch(batch: list[int]) -> list[tuple[str, object]]:
    return [(_cases[index].id, score_one(index, _cases[index])) for index in batch]


def score_one(index: int, case: Case):
    """The handler results of one case, or a CaseFailure; marks the case in progress."""
    if _progress is not None:
        _progress[_slot] = index + 1
    try:
        return _evaluator.evaluate(case)
    except CaseError as exc:
        return CaseFailure(case.id, "data", f"{exc.department}: {exc.where}: {exc.message}")
    except CalendarCoverageError as exc:
        return CaseFailure(case.id, "calendar", str(exc))
    except EngineError as exc:
        return CaseFailure(case.id, "engine", str(exc))
    except Exception:  # a bug: keep the traceback, keep the other cases going
        return CaseFailure(case.id, "internal", traceback.format_exc(limit=5))
    finally:
        if _progress is not None:
            _progress[_slot] = 0


def map_forked(function, items: list, workers: int, describe=str, stage: str | None = None) -> list:
    """[function(item) for item in items], computed in `workers` forked processes that inherit the
    function and the items (nothing is pickled but the results); in this process when it has other
    threads (forking those is unsafe). A worker killed by the native engine ends the map with an
    EngineError naming the items that were not finished."""
    global _mapped
    if workers <= 1 or threading.active_count() > 1 or "fork" not in mp.get_all_start_methods():
        results = []
        for index, item in enumerate(items):
            if stage:
                report_progress(stage, index, len(items), describe(item))
            results.append(function(item))
        return results
    _mapped = (function, items)
    results: dict[int, object] = {}
    if stage:
        report_progress(stage, 0, len(items), describe(items[0]))
    try:
        with _collector_paused(), ProcessPoolExecutor(min(workers, len(items)), mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_map_one, index): index for index in range(len(items))}
            for future in as_completed(futures):
                # an item's error is kept, not raised at once: the first item's in order is raised, as
                # in this process, whatever the order the workers finish in
                error = future.exception()
                if isinstance(error, BrokenProcessPool):
                    raise error
                results[futures[future]] = future.result() if error is None else error
                if stage:
                    report_progress(stage, len(results), len(items), describe(items[futures[future]]))
    except BrokenProcessPool:
        unfinished = [describe(item) for index, item in enumerate(items) if index not in results]
        raise EngineError(f"the matching engine (native code) crashed while working on {', '.join(unfinished)}; "
                          "nothing was written") from None
    finally:
        _mapped = None
    found = [results[index] for index in range(len(items))]
    for result in found:
        if isinstance(result, BaseException):
            raise result
    return found


_mapped: tuple | None = None  # (function, items) of map_forked, inherited by its workers


def _map_one(index: int):
    function, items = _mapped
    return function(items[index])


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
