"""Reading the files a user names, and writing outputs so that a failure never leaves half a file.

Every input (case file, register, rulebook, overlay, records, fixture, mapping, ledger) is
read through `read_file`, so a missing or unreadable file gives the same message everywhere:
`PATH: cannot read the WHAT: REASON`. Every output file goes through `write_atomic`.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError, Problem, UsageError


class FileError(InputError):
    """A file that cannot be read: one problem, printed as it is."""

    def render(self) -> str:
        return str(self.problems[0])


def read_file(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FileError([Problem(str(path), None, "", f"cannot read the {what}: {exc.strerror}")]) from None


def decode_text(raw: bytes, source: str) -> str:
    """UTF-8 (a byte-order mark allowed); a problem names the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(source, line, "", f"not UTF-8 text (byte {exc.start})")]) from None


def text_lines(text: str) -> list[str]:
    """The lines of a text file, split at "\n" only (a "\r" before it is dropped).

    str.splitlines also splits at U+2028, U+2029, U+0085, form feeds and other separators,
    which JSON and TOML allow inside a string: a case holding one would be cut in two."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def check_output(out: str | Path) -> None:
    """An output path whose directory exists (checked before any work is done)."""
    parent = Path(out).parent if str(Path(out).parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{out}: the directory {Path(out).parent} does not exist; nothing was written")


def write_atomic(out: str | Path, data: bytes) -> None:
    """Write beside the target, then rename: a failed run never leaves half a file or replaces a good one."""
    check_output(out)
    target = Path(out)
    handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's owner-only mode
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
