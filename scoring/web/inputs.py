"""The inputs a page can use: the rule files shipped in the rules directory, and the uploads.

Uploads are kept in the working directory's `uploads/` under the sha256 of their content,
with a small JSON record beside each (the kind, the name it was uploaded under, its size and
time). The name a user gave is shown and recorded with runs but never becomes a path, and a
page names an input by its sha256 (an upload) or by its place in the rules directory (a
shipped file, looked up in the listing, never joined to a path as given).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
import secrets
import tomllib
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scoring.base.files import write_atomic

from .jobs import File

KINDS = {"cases": "办件（台账 .xlsx 或 JSON Lines）", "rulebook": "规则", "overlay": "规则调整（overlay）",
         "departments": "部门记录（JSON Lines）"}
MIB = 1024 * 1024
LIMITS = {"cases": 20 * MIB, "rulebook": MIB, "overlay": MIB, "departments": 5 * MIB}  # bytes, per kind
UNPACKED_LIMIT = 200 * MIB  # an .xlsx is a zip archive: what it may unpack to (a "zip bomb" is refused unread)
NAME_LENGTH = 80
SHA256 = re.compile(r"[0-9a-f]{64}")


class Refused(Exception):
    """An upload or a reference that cannot be used; status: the HTTP status that says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Input:
    ref: str  # how pages name it: an upload's sha256, or a shipped file's path in the rules directory
    kind: str
    name: str
    size: int
    path: str
    uploaded: str | None = None  # UTC, for uploads

    @property
    def file(self) -> File:
        return File(self.name, self.path)

    @property
    def shipped(self) -> bool:
        return self.uploaded is None


def display_name(filename: str | None, kind: str) -> str:
    """The name an upload goes by: the last part of what the browser sent, printable, not too long."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] not in "CZ" or c == " ").strip()
    if name in ("", ".", ".."):
        return f"上传的{KINDS[kind].split('（')[0]}"
    return name if len(name) <= NAME_LENGTH else name[:NAME_LENGTH - 1] + "…"


def check_size(kind: str, data: bytes) -> None:
    """The limits of an upload of this kind, before anything reads it."""
    if len(data) > LIMITS[kind]:
        raise Refused(413, f"文件过大：{len(data) / MIB:.1f} MB，{KINDS[kind]}最大 {LIMITS[kind] // MIB} MB")
    if not data:
        raise Refused(400, "文件是空的")
    if data.startswith(b"PK\x03\x04"):
        try:
            unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
        except zipfile.BadZipFile:
            raise Refused(422, "不是有效的 .xlsx 文件（压缩包已损坏）") from None
        if unpacked > UNPACKED_LIMIT:
            raise Refused(413, f"文件解压后过大（{unpacked / MIB:.0f} MB，最大 {UNPACKED_LIMIT // MIB} MB）")


class Library:
    """The shipped rule files and the uploads, by reference."""

    def __init__(self, workdir: Path, rules_dir: Path | None):
        self.uploads = workdir / "uploads"
        self.rules_dir = rules_dir

    # ---------------------------------------------------------------- uploads
    def stage(self, kind: str, filename: str | None, data: bytes) -> Input:
        """An upload to be checked before it is kept: in a temporary file of the working directory."""
        self.uploads.mkdir(parents=True, exist_ok=True)
        path = self.uploads / f".staged-{secrets.token_hex(8)}"
        write_atomic(path, data)
        return Input(hashlib.sha256(data).hexdigest(), kind, display_name(filename, kind), len(data), str(path), "")

    def keep(self, staged: Input) -> Input:
        """A checked upload kept; the same content twice is one file (under the latest name)."""
        os.replace(staged.path, self.uploads / staged.ref)
        meta = {"kind": staged.kind, "name": staged.name, "size": staged.size,
                "uploaded": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")}
        write_atomic(self.uploads / f"{staged.ref}.json", json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        return self._upload(staged.ref, meta)

    @staticmethod
    def discard(staged: Input) -> None:
        Path(staged.path).unlink(missing_ok=True)

    def upload(self, ref: str) -> Input:
        if not SHA256.fullmatch(ref):
            raise Refused(404, "没有这个上传文件")
        try:
            meta = json.loads((self.uploads / f"{ref}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise Refused(404, "没有这个上传文件") from None
        return self._upload(ref, meta)

    def _upload(self, digest: str, meta: dict) -> Input:
        return Input(digest, meta["kind"], meta["name"], meta["size"], str(self.uploads / digest), meta["uploaded"])

    def uploaded(self) -> list[Input]:
        """Every upload, newest first."""
        if not self.uploads.is_dir():
            return []
        found = [self.upload(p.stem) for p in self.uploads.glob("*.json") if SHA256.fullmatch(p.stem)]
        return sorted(found, key=lambda i: (i.uploaded, i.name), reverse=True)

    # ---------------------------------------------------------------- shipped rule files
    def shipped(self) -> list[Input]:
        """The rulebooks and overlays of the rules directory (its fixtures, in *.tests/, are not offered)."""
        if self.rules_dir is None or not self.rules_dir.is_dir():
            return []
        found = []
        for path in sorted(self.rules_dir.rglob("*.toml")):
            relative = path.relative_to(self.rules_dir)
            if any(part.endswith(".tests") or part.startswith(".") for part in relative.parts):
                continue
            try:
                kind = rule_file_kind(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # not a rule file the workbench can offer; `scoring rules validate` says why
            if kind:
                found.append(Input(relative.as_posix(), kind, relative.as_posix(), path.stat().st_size, str(path)))
        return found

    # ---------------------------------------------------------------- either
    def get(self, ref: str, kind: str) -> Input:
        """The input a page names, which must be of this kind."""
        found = self.upload(ref) if SHA256.fullmatch(ref) else next((i for i in self.shipped() if i.ref == ref), None)
        if found is None or found.kind != kind:
            raise Refused(404, f"没有这个{KINDS[kind].split('（')[0]}文件：{ref}")
        return found

    def choices(self, kind: str) -> list[Input]:
        return [i for i in self.shipped() + self.uploaded() if i.kind == kind]


@functools.lru_cache(maxsize=256)
def rule_file_kind(text: str) -> str | None:
    """"overlay", "rulebook" or None (another TOML file), by the file's text; raises ValueError when it is not
    TOML. Kept by text: every page lists the shipped rule files, and parsing them all again took most of a
    page's time, while reading them is cheap (an edited file is another text, so it is parsed again)."""
    tables = tomllib.loads(text)
    return "overlay" if "overlay" in tables else "rulebook" if "rulebook" in tables else None
