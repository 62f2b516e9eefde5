"""Recorded runs: what a run record holds, and getting a run's inputs back out of the store.

A record names everything needed to run again and nothing that depends on the machine:
the rulebook as scored (the effective text) and what it was made from (base, overlays,
--set), the case file as read (its bytes, and the order-independent sha256 the ledger
reports), the option that changes results (--skip-invalid), and the ledger's bytes.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scoring.base.errors import InputError, Problem
from scoring.base.files import PARTIAL, clean_partials, partial_prefix
from scoring.base.i18n import _
from scoring.inputs.case_file import CaseFile
from scoring.ledger.document import to_json
from scoring.ledger.shapes import LedgerDocument, RunExportDocument, RunRecord
from scoring.rulebook.load import Rulebook
from scoring.rulebook.overlay import RuleSources

from .store import RunStore, StoredRun, now, sha256


@dataclass(frozen=True)
class RunInputs:
    """A run's inputs as recorded, ready to score again."""

    sources: RuleSources
    effective: bytes  # the rulebook text that was scored
    case_name: str
    case_bytes: bytes
    skip_invalid: bool
    ledger: bytes
    departments: tuple[str, bytes] | None = None  # the department records file: name and bytes
    exclusions: tuple[str, bytes] | None = None  # the exclusions and appeals file: name and bytes


def new_record(command: list[str], sources: RuleSources, effective: Rulebook, case_file: CaseFile, case_bytes: bytes,
               ledger: LedgerDocument, skip_invalid: bool, replayed_from: str | None = None,
               departments: tuple[str, bytes] | None = None,
               exclusions: tuple[str, bytes] | None = None) -> tuple[RunRecord, dict[str, bytes]]:
    """The record of a run and the content it refers to (sha256 -> bytes)."""
    ledger_bytes = to_json(ledger).encode("utf-8")
    effective_bytes = effective.text.encode("utf-8")
    blobs = {sha256(content): content for content in
             [effective_bytes, sources.base[1], case_bytes, ledger_bytes] + [raw for _, raw in sources.overlays]
             + [file[1] for file in (departments, exclusions) if file]}
    info = effective.spec.rulebook
    record: RunRecord = {
        "recorded_at": now(),
        "engine": ledger["engine"],
        "command": command,
        "rulebook": {"id": info.id, "version": info.version, "title": info.title, "sha256": sha256(effective_bytes),
                     "base": {"name": sources.base[0], "sha256": sha256(sources.base[1])},
                     "overlays": [{"name": name, "sha256": sha256(raw)} for name, raw in sources.overlays],
                     "set": list(sources.sets)},
        "input": {"name": case_file.path, "file_sha256": sha256(case_bytes), "sha256": ledger["input"]["sha256"],
                  "cases": ledger["input"]["cases"], "handlers": ledger["input"]["handlers"],
                  "skipped": len(ledger["input"]["skipped"])},
        "options": {"skip_invalid": skip_invalid},
        "ledger": {"format": ledger["format"], "sha256": sha256(ledger_bytes)},
        "replayed_from": replayed_from,
    }
    if departments is not None:  # records of runs without department records keep their shape
        record["departments"] = {"name": departments[0], "sha256": sha256(departments[1])}
    if exclusions is not None:
        record["exclusions"] = {"name": exclusions[0], "sha256": sha256(exclusions[1])}
    assert record["rulebook"]["sha256"] == effective.sha256 == ledger["rulebook"]["sha256"]
    return record, blobs


def inputs_of(store: RunStore, run: StoredRun) -> RunInputs:
    """Every input of a run, each checked against its sha256."""
    book = run.rulebook
    sources = RuleSources((book["base"]["name"], store.blob(book["base"]["sha256"], _("rulebook"))),
                          tuple((o["name"], store.blob(o["sha256"], _("overlay {name}").format(name=o["name"])))
                                for o in book["overlays"]),
                          tuple(book["set"]))

    def named_file(key: str, what: str) -> tuple[str, bytes] | None:
        file = run.record.get(key)
        return None if file is None else (file["name"], store.blob(file["sha256"], what))

    return RunInputs(sources, store.blob(book["sha256"], _("effective rulebook")), run.input["name"],
                     store.blob(run.input["file_sha256"], _("case file")), run.record["options"]["skip_invalid"],
                     store.blob(run.record["ledger"]["sha256"], _("ledger")),
                     named_file("departments", _("department records")), named_file("exclusions", _("exclusions and appeals")))


def export(store: RunStore, run: StoredRun, out: str | Path) -> list[str]:
    """Write a run's files into a new directory; returns the file names. An existing directory is refused."""
    target = Path(out).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError([Problem(str(out), None, "", _("exists and is not an empty directory; nothing was written"))])
    if not target.parent.is_dir():
        raise InputError([Problem(str(out), None, "", _("the directory {directory} does not exist; nothing was written").format(
            directory=target.parent))])
    inputs = inputs_of(store, run)
    suffix = Path(inputs.case_name).suffix or ".jsonl"
    files = {"rulebook.toml": inputs.effective, f"cases{suffix}": inputs.case_bytes, "ledger.json": inputs.ledger,
             f"sources/{Path(inputs.sources.base[0]).name}": inputs.sources.base[1]}
    for index, (name, raw) in enumerate(inputs.sources.overlays, start=1):
        files[f"sources/overlay-{index}-{Path(name).name}"] = raw
    rerun = ["scoring", "verify", "ledger.json", "--rules", "rulebook.toml", "--cases", f"cases{suffix}"]
    if inputs.departments is not None:
        files["departments.jsonl"] = inputs.departments[1]
        rerun += ["--departments", "departments.jsonl"]
    if inputs.exclusions is not None:
        files["exclusions.jsonl"] = inputs.exclusions[1]
        rerun += ["--exclusions", "exclusions.jsonl"]
    if inputs.skip_invalid:
        rerun.append("--skip-invalid")
    manifest: RunExportDocument = {"run": run.id, "hash": run.hash, "record": run.record, "verify": " ".join(rerun),
                                   "files": {name: sha256(content) for name, content in sorted(files.items())}}
    files["run.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    # written into a temporary directory beside the target, then renamed: all or nothing
    clean_partials(target)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=partial_prefix(target), suffix=PARTIAL))
    try:
        for name, content in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(content)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(files)


def summary(run: StoredRun) -> dict:
    """A run in `runs list`: its id, when, the rulebook and the input it scored, the run it replays."""
    r = run.record
    return {"id": run.id, "seq": run.seq, "recorded_at": r["recorded_at"],
            "rulebook": {k: r["rulebook"][k] for k in ("id", "version", "sha256")},
            "input": {k: r["input"][k] for k in ("sha256", "cases")}, "replayed_from": r["replayed_from"], "hash": run.hash}
