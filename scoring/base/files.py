"""Reading the files a user names, and writing outputs so that a failure never leaves half a file.

Every input (case file, register, rulebook, overlay, records, fixture, mapping, ledger) is
read through `read_file`, so a missing or unreadable file gives the same message everywhere:
`PATH: cannot read the WHAT: REASON`. Every output file goes through `write_atomic`, which
replaces a regular file whole and writes a device or a pipe through (see check_output).
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Problem, UsageError
from .i18n import N_, _

# what the `what` of read_file and the other readers names, for the catalog: messages translate it
INPUT_NAMES = (N_("case file"), N_("department records"), N_("fixture"), N_("ledger"), N_("mapping"), N_("overlay"),
               N_("register"), N_("rulebook"))

# the system's reasons most often met, translated where shown (others stay as the system gives them)
OS_REASONS = (N_("No such file or directory"), N_("Permission denied"), N_("Is a directory"), N_("Not a directory"),
              N_("Read-only file system"), N_("No space left on device"))


def reason(exc: OSError) -> str:
    return _(exc.strerror) if exc.strerror else str(exc)


class FileError(InputError):
    """A file that cannot be read: one problem, printed as it is."""

    def render(self) -> str:
        return str(self.problems[0])


MAX_FILE_BYTES = 256 * 2**20  # any input file: read whole into memory, so bounded before it is read
_CHUNK = 2**20


def read_file(path: str | Path, what: str) -> bytes:
    """The bytes of an input file, at most MAX_FILE_BYTES of them.

    A regular file larger than that is refused by its size, unread; a device or a pipe (/dev/zero,
    `<(...)`) is read in chunks and refused once it has given more."""
    try:
        with open(path, "rb", buffering=0) as stream:
            info = os.fstat(stream.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
                raise _too_large(path, what)
            # a file: one read, and its end
            return read_stream(stream, str(path), what, info.st_size + 1 if stat.S_ISREG(info.st_mode) else _CHUNK)
    except OSError as exc:
        raise FileError([Problem(str(path), None, "", _("cannot read the {what}: {reason}").format(
            what=_(what), reason=reason(exc)))]) from None


def read_stream(stream, name: str, what: str, first: int = _CHUNK) -> bytes:
    """What a binary stream gives (standard input, an open file), refused once it has given more than
    MAX_FILE_BYTES (a file that grew while it was read, a device, a pipe)."""
    chunks, size, wanted = [], 0, first
    while size <= MAX_FILE_BYTES:
        chunk = stream.read(wanted)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        wanted = _CHUNK
    if size > MAX_FILE_BYTES:
        raise _too_large(name, what)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one chunk: no copy


def _too_large(path: str | Path, what: str) -> FileError:
    return FileError([Problem(str(path), None, "", _("the {what} is larger than {mb} MB, the most an input may be; "
                                                     "nothing was read").format(what=_(what), mb=MAX_FILE_BYTES // 2**20))])


def decode_text(raw: bytes, source: str) -> str:
    """UTF-8 (a byte-order mark allowed); a problem names the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(source, line, "", _("not UTF-8 text (byte {byte})").format(byte=exc.start))]) from None


def text_lines(text: str) -> list[str]:
    """The lines of a text file, split at "\n" only (a "\r" before it is dropped).

    str.splitlines also splits at U+2028, U+2029, U+0085, form feeds and other separators,
    which JSON and TOML allow inside a string: a case holding one would be cut in two."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


PARTIAL = ".scoring-partial"  # the suffix of a file being written: .NAME.PID.xxxx.scoring-partial beside NAME


@dataclass(frozen=True)
class Output:
    """Where an output goes: a regular file replaced whole, or a stream (a character device, a pipe) written through."""

    path: Path  # for a file, the file itself: a symbolic link is followed, and stays a link to it
    replace: bool
    mode: int | None = None  # an existing file's permissions and owner, which its replacement keeps
    owner: tuple[int, int] | None = None


def check_output(out: str | Path) -> Output:
    """Where `out` is written, checked before any work is done (nothing is scored or recorded for an
    output that cannot be written).

    A regular file (or a new one) is replaced whole by a file written beside it, with the old
    file's permissions. A character device or a named pipe (/dev/null, /dev/stdout, a FIFO) is
    written through: replacing it would put a regular file in its place. A directory, a block
    device or a socket is refused, and so is a file with other hard links: replacing it would
    leave the other names with the old content, and writing it in place could leave it half
    written."""
    path = Path(out)
    try:
        found = path.stat()  # follows symbolic links
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise UsageError(_("{file}: cannot write here: {reason}; nothing was done").format(
            file=out, reason=reason(exc))) from None
    if found is not None and (stat.S_ISCHR(found.st_mode) or stat.S_ISFIFO(found.st_mode)):
        if not os.access(path, os.W_OK):
            raise UsageError(_("{file}: cannot write here: permission denied; nothing was done").format(file=out))
        return Output(path, replace=False)
    if found is not None and not stat.S_ISREG(found.st_mode):
        kind = _("a directory") if stat.S_ISDIR(found.st_mode) else _("neither a regular file, a character device nor a pipe")
        raise UsageError(_("{file}: is {kind}; --out writes a file; nothing was done").format(file=out, kind=kind))
    if found is not None and found.st_nlink > 1:
        raise UsageError(_("{file}: the file has {n} hard links; replacing it would leave the others with the old content: "
                           "remove them or write elsewhere; nothing was done").format(file=out, n=found.st_nlink))
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        raise UsageError(_("{file}: the directory {directory} does not exist; nothing was written").format(
            file=out, directory=Path(out).parent))
    if found is not None and not os.access(target, os.W_OK):
        raise UsageError(_("{file}: cannot write here: the file is read-only; nothing was done").format(file=out))
    try:  # the directory's permissions, a read-only file system, ...: tried, not guessed
        handle, probe = tempfile.mkstemp(dir=target.parent, prefix=partial_prefix(target), suffix=PARTIAL)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(_("{file}: cannot write in {directory}: {reason}; nothing was done").format(
            file=out, directory=target.parent, reason=reason(exc))) from None
    if found is None:
        return Output(target, replace=True)
    return Output(target, replace=True, mode=stat.S_IMODE(found.st_mode), owner=(found.st_uid, found.st_gid))


def write_atomic(out: str | Path, data: bytes) -> None:
    """Write `out` (see check_output): a file is written beside the target, then renamed over it, so a
    failed run never leaves half a file or replaces a good one."""
    output = check_output(out)
    try:
        if output.replace:
            _replace(output, data)
        else:
            with open(output.path, "wb") as stream:
                stream.write(data)
    except OSError as exc:
        raise UsageError(_("{file}: could not be written: {reason}; it is as it was").format(
            file=out, reason=reason(exc))) from None


def _replace(output: Output, data: bytes) -> None:
    target = output.path
    clean_partials(target)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=partial_prefix(target), suffix=PARTIAL)
    try:
        if output.mode is None:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(handle, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's owner-only mode
        else:
            if output.owner != (os.geteuid(), os.getegid()):
                with contextlib.suppress(PermissionError):  # only root gives a file away; others keep their own
                    os.fchown(handle, *output.owner)
            os.fchmod(handle, output.mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def partial_prefix(target: Path) -> str:
    """The start of the name of a file (or directory) being written in target's place: hidden, and naming
    this process, so that one left behind by a killed run is found and removed by the next."""
    return f".{target.name}.{os.getpid()}."


def clean_partials(target: Path) -> None:
    """Remove what runs killed while writing `target` (kill -9, a power cut) left beside it."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*{PARTIAL}"):
        pid = leftover.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                shutil.rmtree(leftover) if leftover.is_dir() and not leftover.is_symlink() else leftover.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
