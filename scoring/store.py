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

from .errors import ScoringError, closest

FORMAT = "scoring-run-store/1"
DEFAULT_PATH = "scoring-runs.db"
ENV = "SCORING_STORE"
GENESIS = "0" * 64
ID_LENGTH = 12
MIN_PREFIX = 4

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE runs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, record TEXT NOT NULL);
CREATE TRIGGER runs_append_only_update BEFORE UPDATE ON runs BEGIN SELECT RAISE(ABORT, 'runs are append-only'); END;
CREATE TRIGGER runs_append_only_delete BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'runs are append-only'); END;
CREATE TRIGGER blobs_append_only_update BEFORE UPDATE ON blobs BEGIN SELECT RAISE(ABORT, 'stored content is append-only'); END;
CREATE TRIGGER blobs_append_only_delete BEFORE DELETE ON blobs BEGIN SELECT RAISE(ABORT, 'stored content is append-only'); END;
"""


class StoreError(ScoringError):
    """The store cannot be used as asked: missing, not a run store, damaged, or no such run."""

    exit_code = 2


@dataclass(frozen=True)
class StoredRun:
    seq: int
    id: str
    hash: str
    record: dict  # what scoring.runs.new_record builds, plus seq and previous
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
        exists = Path(path).exists()
        if not exists and not create:
            raise StoreError(f"{self.path}: no run store here (record a run with `scoring score ... --record`, "
                             f"or name the store with --store or ${ENV})")
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            if not exists:
                self.db.executescript("BEGIN;" + SCHEMA + "COMMIT;")
                self.db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            found = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot be read as a run store ({exc}); nothing was changed") from None
        if found is None or found[0] != FORMAT:
            raise StoreError(f"{self.path}: not a run store of this tool (format {found[0] if found else 'missing'}, "
                             f"expected {FORMAT})")

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
                    elif sha256(bytes(row[0])) != digest:
                        raise StoreError(f"{self.path}: stored content {digest[:12]} does not match its sha256: the store "
                                         "was altered; nothing was recorded (see `scoring runs check`)")
                last = self.db.execute("SELECT seq, hash FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
                seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
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
        rows = self._query("SELECT seq, id, hash, record FROM runs ORDER BY seq")
        return [self._run(*row) for row in rows]

    def get(self, ref: str) -> StoredRun:
        """A run by id or unique id prefix, its record checked against its hash."""
        ref = ref.strip().lower()
        rows = self._query("SELECT seq, id, hash, record FROM runs ORDER BY seq")
        matches = [row for row in rows if row[1] == ref] or (
            [row for row in rows if row[1].startswith(ref)] if len(ref) >= MIN_PREFIX else [])
        if len(matches) > 1:
            raise StoreError(f'run id "{ref}" is ambiguous in {self.path}: ' + ", ".join(row[1] for row in matches))
        if not matches:
            ids = [row[1] for row in rows]
            hint = closest(ref, ids) or (f" (the latest is {ids[-1]})" if ids else " (the store holds no runs)")
            raise StoreError(f'no run "{ref}" in {self.path}{hint}; `scoring runs list` shows them all')
        run = self._run(*matches[0])
        if sha256(run.text.encode("utf-8")) != run.hash or run.hash[:ID_LENGTH] != run.id:
            raise StoreError(f"{self.path}: the record of run {run.id} does not match its hash: it was altered after "
                             "recording; nothing was used (see `scoring runs check`)")
        return run

    def blob(self, digest: str, what: str) -> bytes:
        """Stored content by sha256, refused if it no longer matches."""
        row = self._query("SELECT content FROM blobs WHERE sha256 = ?", (digest,))
        if not row:
            raise StoreError(f"{self.path}: the {what} ({digest[:12]}) is missing from the store; nothing was used")
        content = bytes(row[0][0])
        if sha256(content) != digest:
            raise StoreError(f"{self.path}: the stored {what} ({digest[:12]}) does not match its sha256: it was altered "
                             "after recording; nothing was used (see `scoring runs check`)")
        return content

    def _query(self, sql: str, args: tuple = ()) -> list:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: the store cannot be read ({exc}); nothing was used") from None

    def _run(self, seq, run_id, digest, text) -> StoredRun:
        try:
            record = json.loads(text)
        except ValueError:
            raise StoreError(f"{self.path}: the record of run {run_id} (#{seq}) is not valid JSON: the store was altered") from None
        return StoredRun(seq, run_id, digest, record, text)

    # ---------------------------------------------------------------- checking

    def check(self) -> list[str]:
        """Every problem found: chain links, record hashes, content hashes, and what each record claims."""
        problems: list[str] = []
        try:
            rows = self.db.execute("SELECT seq, id, hash, record FROM runs ORDER BY seq").fetchall()
            blobs = {row[0]: bytes(row[1]) for row in self.db.execute("SELECT sha256, content FROM blobs")}
            integrity = self.db.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return [f"the database file cannot be read: {exc}"]
        if integrity != [("ok",)]:
            problems += [f"database file: {row[0]}" for row in integrity]
        altered = {digest for digest, content in blobs.items() if sha256(content) != digest}
        previous, expected_seq = GENESIS, 1
        for seq, run_id, digest, text in rows:
            name = f"run {run_id} (#{seq})"
            if seq != expected_seq:
                problems.append(f"{name}: expected run #{expected_seq} here; run(s) before it are missing")
            expected_seq = seq + 1
            try:
                record = json.loads(text)
            except ValueError:
                problems.append(f"{name}: the record is not valid JSON")
                previous = digest
                continue
            if sha256(text.encode("utf-8")) != digest:
                problems.append(f"{name}: the record does not match its hash (altered after recording)")
            elif digest[:ID_LENGTH] != run_id:
                problems.append(f"{name}: the id is not the start of the record's hash")
            if record.get("seq") != seq:
                problems.append(f"{name}: the record says it is run #{record.get('seq')}")
            if record.get("previous") != previous:
                problems.append(f"{name}: the chain is broken: it names {str(record.get('previous'))[:12]} as the run "
                                f"before it, but that run's hash is {previous[:12]}")
            previous = digest
            for what, blob in sorted(referenced_blobs(record).items()):
                if blob not in blobs:
                    problems.append(f"{name}: the {what} ({blob[:12]}) is missing")
                elif blob in altered:
                    problems.append(f"{name}: the stored {what} ({blob[:12]}) does not match its sha256 (altered after recording)")
            problems += [f"{name}: {problem}" for problem in _claims(record, blobs, altered)]
        return problems


def referenced_blobs(record: dict) -> dict[str, str]:
    """What a run record points at in `blobs`: a description -> sha256."""
    book = record.get("rulebook", {})
    found = {"effective rulebook": book.get("sha256"), "rulebook": book.get("base", {}).get("sha256"),
             "case file": record.get("input", {}).get("file_sha256"), "ledger": record.get("ledger", {}).get("sha256")}
    for index, overlay in enumerate(book.get("overlays", [])):
        found[f"overlay #{index + 1} ({overlay.get('name')})"] = overlay.get("sha256")
    return {what: digest for what, digest in found.items() if digest}


def _claims(record: dict, blobs: dict, altered: set) -> list[str]:
    """The stored ledger must say the rulebook and input the record says."""
    digest = record.get("ledger", {}).get("sha256")
    if digest not in blobs or digest in altered:
        return []
    try:
        ledger = json.loads(blobs[digest])
    except ValueError:
        return ["the stored ledger is not JSON"]
    problems = []
    if ledger.get("rulebook", {}).get("sha256") != record.get("rulebook", {}).get("sha256"):
        problems.append("the stored ledger was made with another rulebook than the record names")
    if ledger.get("input", {}).get("sha256") != record.get("input", {}).get("sha256"):
        problems.append("the stored ledger was made from other cases than the record names")
    return problems


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
