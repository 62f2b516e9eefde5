"""The run store: recorded runs in one SQLite file, append-only and hash-chained.

Two tables. `blobs` holds content by its sha256: rule files, case files, ledgers, each kept
once however many runs use it. `runs` holds one JSON record per run (when, engine, command,
the rulebook and its sources, the input, the ledger, the run it replays) and the sha256 of
that record, which includes the hash of the run before it. Triggers refuse updates and
deletes, and `check` recomputes every hash, so a change made behind the tool's back, by
sqlite3 or by editing the file, is found and named. Nothing here ever repairs: a damaged
store is reported and left as it is.

A run is named by the first 12 hex digits of its hash; any unique prefix of 4 or more works.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from scoring.base.errors import ScoringError, closest
from scoring.base.i18n import _
from scoring.ledger.schemas import shape_problem
from scoring.ledger.shapes import RUN_STORE, LedgerDocument, StoredRecord

DEFAULT_PATH = "scoring-runs.db"
ENV = "SCORING_STORE"
GENESIS = "0" * 64
ID_LENGTH = 12
MIN_PREFIX = 4

SCHEMA = (  # statements run one by one, in the transaction that creates the store
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, content BLOB NOT NULL)",
    "CREATE TABLE runs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, record TEXT NOT NULL)",
    "CREATE TRIGGER runs_append_only_update BEFORE UPDATE ON runs BEGIN SELECT RAISE(ABORT, 'runs are append-only'); END",
    "CREATE TRIGGER runs_append_only_delete BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'runs are append-only'); END",
    "CREATE TRIGGER blobs_append_only_update BEFORE UPDATE ON blobs BEGIN SELECT RAISE(ABORT, 'stored content is "
    "append-only'); END",
    "CREATE TRIGGER blobs_append_only_delete BEFORE DELETE ON blobs BEGIN SELECT RAISE(ABORT, 'stored content is "
    "append-only'); END",
)
WAIT_SECONDS = 60  # how long a command waits for another one writing the store (recording, creating it)


TRIGGERS = ("runs_append_only_update", "runs_append_only_delete", "blobs_append_only_update", "blobs_append_only_delete")


class StoreError(ScoringError):
    """The store cannot be used as asked: missing, not a run store, damaged, or no such run."""

    exit_code = 2


@dataclass(frozen=True)
class StoredRun:
    seq: int
    id: str
    hash: str
    record: StoredRecord  # what scoring.audit.runs.new_record builds, plus seq and previous
    text: str  # the record as stored and hashed

    @property
    def rulebook(self) -> dict:
        return self.record["rulebook"]

    @property
    def input(self) -> dict:
        return self.record["input"]


def default_path() -> str:
    return os.environ.get(ENV) or DEFAULT_PATH


def canonical(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RunStore:
    def __init__(self, path: str | Path, create: bool = False):
        self.path = str(path)
        if not create and not Path(path).exists():
            raise StoreError(_("{path}: no run store here (record a run with `scoring score ... --record`, "
                               "or name the store with --store or ${env})").format(path=self.path, env=ENV))
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=WAIT_SECONDS)
        except sqlite3.DatabaseError as exc:
            raise StoreError(_("{path}: cannot open the run store ({error}); nothing was recorded").format(
                path=self.path, error=exc)) from None
        try:
            if create:
                self._create()
            found = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(_("{path}: cannot be read as a run store ({error}); nothing was changed").format(
                path=self.path, error=exc)) from None
        if found is None or found[0] != RUN_STORE:
            raise StoreError(_("{path}: not a run store of this tool (format {found}, expected {expected})").format(
                path=self.path, found=found[0] if found else _("missing"), expected=RUN_STORE))

    def _create(self) -> None:
        """The tables of a new store, made by one process: several creating it at once wait for each other
        (the file exists before its tables do, so looking for the file could not tell)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:  # an empty database
                for statement in SCHEMA:
                    self.db.execute(statement)
                self.db.execute("INSERT INTO meta VALUES ('format', ?)", (RUN_STORE,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- writing

    def record(self, record: dict, blobs: dict[str, bytes]) -> StoredRun:
        """Append a run. blobs maps sha256 -> content for everything the record refers to."""
        try:
            self.db.execute("BEGIN IMMEDIATE")  # the previous hash and the new row, as one step
            try:
                for digest, content in sorted(blobs.items()):
                    assert sha256(content) == digest
                    row = self.db.execute("SELECT content FROM blobs WHERE sha256 = ?", (digest,)).fetchone()
                    if row is None:
                        self.db.execute("INSERT INTO blobs VALUES (?, ?)", (digest, content))
                    elif not isinstance(row[0], bytes) or sha256(row[0]) != digest:
                        raise StoreError(f"{self.path}: stored content {digest[:12]} does not match its sha256: the store "
                                         "was altered; nothing was recorded (see `scoring runs check`)")
                rows = self.db.execute("SELECT seq, id, hash, record FROM runs ORDER BY seq").fetchall()
                damaged = self._chain_problems(rows)
                if damaged:  # never extend a chain that no longer holds
                    raise StoreError(f"{self.path}: the run records were altered or damaged; nothing was recorded "
                                     f"(`scoring runs check` lists every problem); first: {damaged[0]}")
                last = rows[-1] if rows else None
                seq, previous = (last[0] + 1, last[2]) if last else (1, GENESIS)
                full = {**record, "seq": seq, "previous": previous}
                text = canonical(full)
                digest = sha256(text.encode("utf-8"))
                self.db.execute("INSERT INTO runs VALUES (?, ?, ?, ?)", (seq, digest[:ID_LENGTH], digest, text))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: could not record the run ({exc}); nothing was recorded") from None
        return StoredRun(seq, digest[:ID_LENGTH], digest, full, text)

    # ---------------------------------------------------------------- reading

    def runs(self) -> list[StoredRun]:
        """Every run, oldest first; refused when any record or link of the chain was altered, or when a record
        is not one this tool writes (a forger can make the hashes agree; the record must still make sense)."""
        rows = self._query("SELECT seq, id, hash, record FROM runs ORDER BY seq")
        problems = self._chain_problems(rows) or self._record_problems(rows)
        if problems:
            raise StoreError(f"{self.path}: the run records were altered or damaged, so none is used "
                             f"(`scoring runs check` lists every problem); first: {problems[0]}")
        return [self._run(*row) for row in rows]

    def get(self, ref: str) -> StoredRun:
        """A run by id (or full hash, or a unique prefix of 4+ characters), the whole chain checked."""
        ref = ref.strip().lower()
        runs = self.runs()
        matches = [r for r in runs if ref in (r.id, r.hash)] or (
            [r for r in runs if r.hash.startswith(ref)] if len(ref) >= MIN_PREFIX else [])
        if len(matches) > 1:
            raise StoreError(f'run id "{ref}" is ambiguous in {self.path}: ' + ", ".join(r.id for r in matches))
        if not matches:
            ids = [r.id for r in runs]
            hint = closest(ref, ids) or (_(" (the latest is {run})").format(run=ids[-1]) if ids
                                         else _(" (the store holds no runs)"))
            short = _("; give at least {n} characters").format(n=MIN_PREFIX) if len(ref) < MIN_PREFIX else ""
            raise StoreError(_('no run "{ref}" in {path}{hint}{short}; `scoring runs list` shows them all').format(
                ref=ref, path=self.path, hint=hint, short=short))
        return matches[0]

    def blob(self, digest: str, what: str) -> bytes:
        """Stored content by sha256, refused if it no longer matches."""
        row = self._query("SELECT content FROM blobs WHERE sha256 = ?", (digest,))
        if not row:
            raise StoreError(_("{path}: the {what} ({digest}) is missing from the store; nothing was used").format(
                path=self.path, what=what, digest=digest[:12]))
        content = row[0][0]
        if not isinstance(content, bytes) or sha256(content) != digest:
            raise StoreError(_("{path}: the stored {what} ({digest}) does not match its sha256: it was altered "
                               "after recording; nothing was used (see `scoring runs check`)").format(
                path=self.path, what=what, digest=digest[:12]))
        return content

    def ledger(self, run: StoredRun) -> dict:
        """A run's stored ledger, refused unless it is a ledger this tool writes."""
        try:
            ledger = json.loads(self.blob(run.record["ledger"]["sha256"], _("ledger")))
        except ValueError:
            ledger = None
        problem = shape_problem(ledger, LedgerDocument)
        if problem:
            raise StoreError(_("{path}: run {run}: the stored ledger is not a ledger of this tool ({problem}); "
                               "nothing was used (see `scoring runs check`)").format(path=self.path, run=run.id,
                                                                                    problem=problem))
        return ledger

    def _query(self, sql: str, args: tuple = ()) -> list:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(_("{path}: the store cannot be read ({error}); nothing was used").format(
                path=self.path, error=exc)) from None

    def _run(self, seq, run_id, digest, text) -> StoredRun:
        return StoredRun(seq, run_id, digest, json.loads(text), text)

    @staticmethod
    def _chain_problems(rows: list) -> list[str]:
        """Each record against its hash, and each link of the chain: what every read relies on."""
        problems: list[str] = []
        previous, expected_seq = GENESIS, 1
        for seq, run_id, digest, text in rows:
            name = _run_name(run_id, seq)
            if seq != expected_seq:
                problems.append(_("{run}: expected run #{seq} here; run(s) before it are missing").format(
                    run=name, seq=expected_seq))
            expected_seq = seq + 1 if isinstance(seq, int) else expected_seq + 1
            record = _record_of(text)
            if record is None:
                problems.append(_("{run}: the record is not a JSON object as recorded").format(run=name))
            elif not isinstance(digest, str) or sha256(text.encode("utf-8")) != digest:
                problems.append(_("{run}: the record does not match its hash (altered after recording)").format(run=name))
            elif digest[:ID_LENGTH] != run_id:
                problems.append(_("{run}: the id is not the start of the record's hash").format(run=name))
            else:
                if record.get("seq") != seq:
                    problems.append(_("{run}: the record says it is run #{seq}").format(run=name, seq=record.get("seq")))
                if record.get("previous") != previous:
                    problems.append(_("{run}: the chain is broken: it names {named} as the run before it, but that "
                                      "run's hash is {previous}").format(run=name, named=str(record.get("previous"))[:12],
                                                                         previous=str(previous)[:12]))
            previous = digest
        return problems

    @staticmethod
    def _record_problems(rows: list) -> list[str]:
        """Each record against the shape of the records this tool writes."""
        problems = []
        for seq, run_id, _digest, text in rows:
            record = _record_of(text)
            problem = shape_problem(record, StoredRecord) if record is not None else None  # (a chain problem)
            if problem:
                problems.append(_("{run}: the record is not a run record of this tool ({problem})").format(
                    run=_run_name(run_id, seq), problem=problem))
        return problems

    # ---------------------------------------------------------------- checking

    def check(self) -> list[str]:
        """Every problem found: chain links, record hashes, content hashes, and what each record claims."""
        problems: list[str] = []
        try:
            rows = self.db.execute("SELECT seq, id, hash, record FROM runs ORDER BY seq").fetchall()
            blobs = dict(self.db.execute("SELECT sha256, content FROM blobs").fetchall())
            triggers = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            integrity = self.db.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return [_("the database file cannot be read: {error}").format(error=exc)]
        if integrity != [("ok",)]:
            problems += [_("database file: {problem}").format(problem=row[0]) for row in integrity]
        altered = {digest for digest, content in blobs.items() if not isinstance(content, bytes) or sha256(content) != digest}
        problems += self._chain_problems(rows)
        problems += self._record_problems(rows)
        for seq, run_id, _digest, text in rows:
            record = _record_of(text)
            if record is None:
                continue
            name = _run_name(run_id, seq)
            for what, blob in sorted(referenced_blobs(record).items()):
                if blob not in blobs:
                    problems.append(_("{run}: the {what} ({digest}) is missing").format(run=name, what=what,
                                                                                       digest=blob[:12]))
                elif blob in altered:
                    problems.append(_("{run}: the stored {what} ({digest}) does not match its sha256 "
                                      "(altered after recording)").format(run=name, what=what, digest=blob[:12]))
            problems += [f"{name}: {problem}" for problem in _claims(record, blobs, altered)]
        missing = [name for name in TRIGGERS if name not in triggers]
        if missing:
            problems.append(_("the append-only triggers were removed ({triggers}): the store was opened for "
                              "changes behind the tool's back").format(triggers=", ".join(missing)))
        return problems


def _record_of(text) -> dict | None:
    try:
        record = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _get(data, *keys):
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _run_name(run_id, seq) -> str:
    return _("run {run} (#{seq})").format(run=run_id, seq=seq)


def referenced_blobs(record: dict) -> dict[str, str]:
    """What a run record points at in `blobs`: a description -> sha256."""
    found = {_("effective rulebook"): _get(record, "rulebook", "sha256"),
             _("rulebook"): _get(record, "rulebook", "base", "sha256"),
             _("case file"): _get(record, "input", "file_sha256"), _("ledger"): _get(record, "ledger", "sha256"),
             _("department records"): _get(record, "departments", "sha256"),
             _("exclusions and appeals"): _get(record, "exclusions", "sha256")}
    overlays = _get(record, "rulebook", "overlays")
    for index, overlay in enumerate(overlays if isinstance(overlays, list) else []):
        found[_("overlay #{n} ({name})").format(n=index + 1, name=_get(overlay, "name"))] = _get(overlay, "sha256")
    return {what: digest for what, digest in found.items() if isinstance(digest, str)}


def _claims(record: dict, blobs: dict, altered: set) -> list[str]:
    """The stored ledger must say the rulebook and input the record says."""
    digest = _get(record, "ledger", "sha256")
    if digest not in blobs or digest in altered:
        return []
    try:
        ledger = json.loads(blobs[digest])
    except ValueError:
        return [_("the stored ledger is not JSON")]
    problem = shape_problem(ledger, LedgerDocument)
    if problem:
        return [_("the stored ledger is not a ledger of this tool ({problem})").format(problem=problem)]
    problems = []
    if _get(ledger, "rulebook", "sha256") != _get(record, "rulebook", "sha256"):
        problems.append(_("the stored ledger was made with another rulebook than the record names"))
    if _get(ledger, "input", "sha256") != _get(record, "input", "sha256"):
        problems.append(_("the stored ledger was made from other cases than the record names"))
    return problems


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
