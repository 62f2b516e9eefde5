"""Score many cases in worker processes; a native crash is caught, pinned to its case, retried.

durable_rules is a C library: a bug in it kills the process, not just the call. So cases are
scored in worker processes (which also uses every core). The parent hands each worker a few
cases at a time over a pipe and the worker sends back each case's result as soon as it is
scored, so when a worker dies the parent knows the case it was scoring: that case is scored
again alone in a fresh process, and a case that crashes alone again is reported by id; the
worker's other cases go back in the queue, and a fresh worker takes its place while the others
carry on. Nothing is lost and nothing is silently skipped: every case ends scored, failed with
its reason, or crashed. Every death is pinned to a case, so restarts are bounded by the cases;
workers that die before scoring anything, or whose set-up fails, end the run with an
EngineError. The pool is the parent's own (processes, pipes, and multiprocessing's wait on
their sentinels): no threads, nothing to hang while shutting down after a crash.
"""
from __future__ import annotations

import gc
import multiprocessing as mp
import os
import signal
import threading
import traceback
from collections import deque
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from scoring.base.errors import EngineError
from scoring.base.i18n import N_
from scoring.base.progress import report as report_progress
from scoring.domain.cases import Case
from scoring.domain.workdays import CalendarCoverageError
from scoring.rulebook.load import parse_rulebook

from .compiler import CompiledRulebook, compile_rulebook
from .evaluate import CaseError, CaseEvaluator, HandlerResult, ScoringSetting

BATCH_SIZE = 200
MAX_STARTUP_DEATHS = 3  # workers that die before they score anything: then the run stops


@dataclass(frozen=True)
class CaseFailure:
    case: str
    kind: str  # "data" (a rule failed on the case's data), "calendar", "engine", "crash", "internal"
    message: str
    reason: str = ""  # a data failure's message without its department: what cases failing alike share


@dataclass
class RunOutcome:
    results: dict[str, list[HandlerResult]] = field(default_factory=dict)  # case id -> its handlers
    failures: dict[str, CaseFailure] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)  # in progress when a worker died; then scored alone


def score_cases(compiled: CompiledRulebook, cases: list[Case], jobs: int = 0, setting: ScoringSetting | None = None,
                batch_size: int = BATCH_SIZE, batch_fn=None, evaluator: CaseEvaluator | None = None) -> RunOutcome:
    """Score cases in their setting; jobs=0 scores in this process (no crash isolation) with `evaluator`,
    made if not given. batch_size: the most cases a worker is handed at once."""
    setting = setting or ScoringSetting()
    global _evaluator, _cases, _inherited
    batch_fn = batch_fn or _score_batch
    if jobs <= 0:
        own = evaluator is None
        _evaluator = CaseEvaluator(compiled) if own else evaluator
        _evaluator.configure(setting)
        _cases = dict(enumerate(cases))
        try:
            outcome = RunOutcome()
            for start in range(0, len(cases), batch_size):  # in batches, to show progress as the workers' path does
                _merge(outcome, batch_fn(list(range(start, min(start + batch_size, len(cases))))))
                report_progress(N_("scoring cases"), len(outcome.results) + len(outcome.failures), len(cases))
            return outcome
        finally:
            if own:
                _evaluator.close()
            _evaluator, _cases = None, None
    outcome = RunOutcome()

    def scored(index: int, value) -> None:
        _merge(outcome, value)
        report_progress(N_("scoring cases"), len(outcome.results) + len(outcome.failures), len(cases))

    _cases, _inherited = cases, compiled  # what forked workers find in the memory they inherit
    try:
        with _collector_paused():
            start = (_init, _start_args(compiled, cases, setting))
            pool = _Workers(_score_task, start, jobs, batch_fn)
            crashed = pool.run(list(range(len(cases))), shared_chunk(len(cases), jobs, batch_size), scored)
            # each case a worker died on, scored again alone in a fresh process: a second death is its own
            for index in _Workers(_score_task, start, min(jobs, len(crashed)), batch_fn).run(crashed, 1, scored, alone=True):
                case = cases[index]
                outcome.failures[case.id] = CaseFailure(
                    case.id, "crash", "the matching engine (native code) crashed on this case twice, in a batch and alone")
    finally:
        _cases, _inherited = None, None
    outcome.recovered = [cases[index].id for index in crashed if cases[index].id in outcome.results]
    return outcome


def shared_chunk(cases: int, jobs: int, batch_size: int) -> int:
    """How many cases a worker is handed at once: at most batch_size, and small enough that every
    worker gets a few hands. The sample year's 209 cases in hands of 200 went 200 to one worker and
    9 to the other, so that two workers took as long as one."""
    return max(1, min(batch_size, -(-cases // (jobs * 4))))


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


def _context():
    """fork, from a single-threaded process (a child forked while another thread holds a lock may
    deadlock; a caller may have threads, a browser test's); else fresh interpreters."""
    methods = mp.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return mp.get_context("fork")
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def _start_args(compiled: CompiledRulebook, cases: list[Case], setting: ScoringSetting) -> tuple:
    """What a worker starts from: forked ones find the compiled rulebook and the cases in the memory they
    inherit (a pool costs a fork, not a compilation or the pickling of cases); others get the rulebook's text
    and the cases."""
    if _context().get_start_method() == "fork":
        return None, None, setting
    return (compiled.book.text.encode("utf-8"), compiled.book.path), dict(enumerate(cases)), setting


class _Workers:
    """Worker processes fed tasks (indices) over pipes; each result comes back as the task is done."""

    def __init__(self, task, setup: tuple, count: int, payload=None):
        """task(index, payload) in the workers, after setup: (function, arguments)."""
        self.task, self.setup, self.count, self.payload = task, setup, max(1, count), payload
        self.context = _context()

    def run(self, tasks: list[int], chunk: int, on_result, alone: bool = False) -> list[int]:
        """Run every task; on_result(task, result) for each. The tasks a worker died on are returned (in the order
        of the deaths), not retried. alone: each task in a process of its own."""
        queue = deque(tasks)
        crashed: list[int] = []
        live: dict = {}  # connection -> [process, its tasks not yet answered, whether it has answered any]
        startup_deaths = 0
        try:
            while queue or live:
                while queue and len(live) < self.count:
                    connection, process = self._spawn()
                    live[connection] = [process, [], False]
                    self._hand(connection, live[connection], queue, 1 if alone else chunk)
                for connection in wait(list(live)):
                    process, pending, answered = live[connection]
                    try:
                        message = connection.recv()
                    except (EOFError, OSError):  # the worker died
                        del live[connection]
                        connection.close()
                        process.join()
                        if pending:
                            crashed.append(pending[0])
                            queue.extendleft(reversed(pending[1:]))
                        elif not answered:
                            startup_deaths += 1
                            if startup_deaths >= MAX_STARTUP_DEATHS:
                                raise EngineError(f"the matching engine's worker processes died {startup_deaths} times "
                                                  "before scoring anything (exit status "
                                                  f"{process.exitcode}); nothing was written") from None
                        continue
                    kind, value = message
                    if kind == "failed":  # its set-up raised: every worker would
                        raise EngineError(f"the matching engine could not start in a worker process: {value}")
                    live[connection][2] = True
                    if kind == "done":
                        on_result(pending.pop(0), value)
                    if not pending:
                        if alone or not queue:
                            self._stop(connection, process)
                            del live[connection]
                        else:
                            self._hand(connection, live[connection], queue, chunk)
        finally:
            for connection, (process, _, _) in live.items():
                process.kill()
                process.join()
                connection.close()
        return crashed

    def _spawn(self):
        mine, theirs = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(theirs, self.task, self.setup, self.payload), daemon=True)
        process.start()
        theirs.close()
        return mine, process

    @staticmethod
    def _hand(connection, state, queue: deque, chunk: int) -> None:
        tasks = [queue.popleft() for _ in range(min(chunk, len(queue)))]
        state[1].extend(tasks)
        connection.send(tasks)

    @staticmethod
    def _stop(connection, process) -> None:
        with suppress(OSError):
            connection.send(None)
        connection.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


def _serve(connection, task, setup: tuple, payload) -> None:
    """A worker: set up, then run the tasks it is handed, answering each as soon as it is done."""
    # Ctrl-C reaches the whole process group: the parent stops the run and kills its workers, and
    # a worker that died of it first would be taken for a crash of the engine on its case
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        setup[0](*setup[1])
    except BaseException:
        connection.send(("failed", traceback.format_exc(limit=3)))
        return
    while True:
        tasks = connection.recv()
        if tasks is None:
            return
        for index in tasks:
            connection.send(("done", task(index, payload)))


def _score_task(index: int, batch_fn):
    return batch_fn([index])


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


def _init(rulebook: tuple[bytes, str] | None, cases, setting: ScoringSetting) -> None:
    """A worker's start: its evaluator, from the inherited compiled rulebook or from the rulebook's text."""
    global _evaluator, _cases
    if cases is not None:
        _cases = cases
    # the workers compile the very text the parent checked, not the file read again
    compiled = _inherited if rulebook is None else compile_rulebook(parse_rulebook(*rulebook))
    _evaluator = CaseEvaluator(compiled, setting)


def _score_batch(batch: list[int]) -> list[tuple[str, object]]:
    return [(_cases[index].id, score_one(index, _cases[index])) for index in batch]


def score_one(index: int, case: Case):
    """The handler results of one case, or a CaseFailure."""
    try:
        return _evaluator.evaluate(case)
    except CaseError as exc:
        return CaseFailure(case.id, "data", f"{exc.department}: {exc.where}: {exc.message}", f"{exc.where}: {exc.message}")
    except CalendarCoverageError as exc:
        return CaseFailure(case.id, "calendar", str(exc))
    except EngineError as exc:
        return CaseFailure(case.id, "engine", str(exc))
    except Exception:  # a bug: keep the traceback, keep the other cases going
        return CaseFailure(case.id, "internal", traceback.format_exc(limit=5))


def map_forked(function, items: list, workers: int, describe=str, stage: str | None = None) -> list:
    """[function(item) for item in items], computed in `workers` forked processes that inherit the
    function and the items (nothing is pickled but the results); in this process when it has other
    threads (forking those is unsafe). A worker killed by the native engine ends the map with an
    EngineError naming the items it was working on (the other items are finished first)."""
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

    def finished(index: int, result) -> None:
        # an item's error is kept, not raised at once: the first item's in order is raised, as in this
        # process, whatever the order the workers finish in
        results[index] = result
        if stage:
            report_progress(stage, len(results), len(items), describe(items[index]))

    if stage:
        report_progress(stage, 0, len(items), describe(items[0]))
    try:
        with _collector_paused():
            crashed = _Workers(_map_task, (_no_setup, ()), min(workers, len(items))).run(list(range(len(items))), 1, finished)
    finally:
        _mapped = None
    if crashed:
        unfinished = [describe(items[index]) for index in sorted(crashed)]
        raise EngineError(f"the matching engine (native code) crashed while working on {', '.join(unfinished)}; "
                          "nothing was written")
    found = [results[index] for index in range(len(items))]
    for result in found:
        if isinstance(result, BaseException):
            raise result
    return found


_mapped: tuple | None = None  # (function, items) of map_forked, inherited by its workers


def _no_setup() -> None:
    pass


def _map_task(index: int, payload):
    function, items = _mapped
    try:
        return function(items[index])
    except Exception as error:
        return error


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
