"""Time and peak memory of `scoring score` on inputs built to be expensive, against another commit.

    python bench/hostile.py                         # this tree against 6748159 (before the input limits)
    python bench/hostile.py --against COMMIT --timeout 300 --only far-row zip-bomb
    python bench/hostile.py --new-only                # this tree alone (a few seconds an input)

Each input is built in a temporary directory: a 5 KB workbook with one value far away, a
1 MB archive that unpacks to a gigabyte, a sheet of millions of XML elements, an archive of a
million entries, a case with tens of thousands of replies, a long text, a deep nesting, a file
of 60,000 cases, files of millions of lines, /dev/zero. Each runs once with the old code
and once with this tree, as a separate process (the other commit checked out in .bench/, as
bench/commands.py does), limited to --memory GB of address space and --timeout seconds; the
table gives the wall time, the peak resident memory and how the run ended. A process costs
about a second before it reads anything (Python, pydantic, the rulebook): the first row, a
valid case file of one case, is that floor.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from commands import CACHE, ROOT, python_of
from openpyxl import Workbook

SAMPLE = ROOT / "samples" / "cases-2020.jsonl"
RULES = ["--rules", str(ROOT / "rules" / "proposal-handling.toml")]


def one_case() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8").split("\n")[0])


def write_cases(path: Path, cases) -> Path:
    with open(path, "w", encoding="utf-8") as stream:
        for case in cases:
            stream.write(json.dumps(case, ensure_ascii=False) + "\n")
    return path


def register(path: Path, far: str | None = None, formatted: str | None = None, title: str = "关于C1的提案") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "办理台账"
    sheet.append(["案号", "类别", "标题", "提出人", "承办单位", "办理类型", "交办日期"])
    sheet.append(["C1", "提案", title, "张委员", "甲局", "主办", "2020-03-10"])
    if far:
        sheet[far] = "x"
    if formatted:
        sheet[formatted].number_format = "0.00"
    workbook.save(path)
    return path


def zip_bomb(path: Path, megabytes: int = 1024) -> Path:
    """A register whose one title cell holds `megabytes` MB of text: about 1 MB compressed."""
    buffer = io.BytesIO()
    register(buffer, title="TITLE")  # ASCII: written alike with and without lxml
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    title = b"TITLE"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for item in source.infolist():
            data = source.read(item)
            if item.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(item, data)
                continue
            head, tail = data.split(b"<t>" + title + b"</t>")
            with archive.open(item.filename, "w", force_zip64=True) as stream:
                stream.write(head + b"<t>")
                for _ in range(megabytes):
                    stream.write(b"A" * 2**20)
                stream.write(b"</t>" + tail)
    return path


def replies(path: Path, count: int) -> Path:
    case = one_case()
    case["events"] += [{"id": f"r{i}", "type": "reply", "date": "2020-05-01", "department": case["handlers"][0]["department"],
                        "outcome": "A"} for i in range(count)]
    return write_cases(path, [case])


def long_text(path: Path, characters: int) -> Path:
    case = one_case()
    case["title"] = "长" * characters
    return write_cases(path, [case])


def many_cases(path: Path, count: int) -> Path:
    case = one_case()
    return write_cases(path, ({**case, "id": f"C{n:06d}"} for n in range(count)))


def junk_xml(path: Path, elements: int = 15_000_000) -> Path:
    """A register whose sheet holds `elements` empty elements in its extension list: 60 KB compressed."""
    register(path)
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, tail = data.split(b"</worksheet>")
                with archive.open(item.filename, "w") as stream:
                    stream.write(head + b"<extLst>")
                    for _ in range(elements // 100_000):
                        stream.write(b"<a/>" * 100_000)
                    stream.write(b"</extLst></worksheet>" + tail)
            else:
                archive.writestr(item, data)
    return path


def many_parts(path: Path, parts: int = 1_000_000) -> Path:
    """A register with `parts` more (empty) entries in its archive: 100 MB."""
    register(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        for n in range(parts):
            archive.writestr(f"x/{n}", b"")
    return path


def lines_of(path: Path, line: bytes, size: int = 255 * 2**20) -> Path:
    """A file of `size` bytes made of one line repeated (under the file-size limit)."""
    with open(path, "wb") as stream:
        block = line * (2**20 // len(line))
        for _ in range(size // len(block)):
            stream.write(block)
    return path


def deep(path: Path) -> Path:
    path.write_text('{"id": "C1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    return path


INPUTS = {  # name -> (what it is, how to build it in a directory: the --cases argument)
    "valid-one-case": ("a valid case file of one case (the floor)", lambda d: write_cases(d / "one.jsonl", [one_case()])),
    "far-row": ("5 KB workbook, one value on row 1,048,576", lambda d: register(d / "far-row.xlsx", far="A1048576")),
    "far-column": ("5 KB workbook, one value in column 16,384 (XFD)", lambda d: register(d / "far-col.xlsx", far="XFD2")),
    "far-formatted": ("5 KB workbook, a formatted blank cell on row 1,048,576 (valid)",
                      lambda d: register(d / "far-fmt.xlsx", formatted="A1048576")),
    "zip-bomb": ("1 MB workbook unpacking to 1 GB (one cell)", lambda d: zip_bomb(d / "bomb.xlsx")),
    "junk-xml": ("60 KB workbook whose sheet holds 15,000,000 empty XML elements", lambda d: junk_xml(d / "junk.xlsx")),
    "many-parts": ("workbook of 1,000,000 archive entries (100 MB)", lambda d: many_parts(d / "parts.xlsx")),
    "replies-20000": ("one case with 20,000 replies", lambda d: replies(d / "r20000.jsonl", 20_000)),
    "replies-60000": ("one case with 60,000 replies", lambda d: replies(d / "r60000.jsonl", 60_000)),
    "events-1500": ("one case with 1,500 replies (1.1 MB: under the size limit)", lambda d: replies(d / "r1500.jsonl", 1_500)),
    "text-1m": ("a title of 1,000,000 characters", lambda d: long_text(d / "text.jsonl", 1_000_000)),
    "deep": ("a case nested 100,000 levels deep", lambda d: deep(d / "deep.jsonl")),
    "cases-60000": ("60,000 cases (copies of one, 88 MB)", lambda d: many_cases(d / "many.jsonl", 60_000)),
    "blank-lines": ("255 MB of blank lines", lambda d: lines_of(d / "blank.jsonl", b"\n")),
    "short-lines": ("255 MB of lines \"1\" (134 million records)", lambda d: lines_of(d / "short.jsonl", b"1\n")),
    "dev-zero": ("/dev/zero as the case file", lambda d: Path("/dev/zero")),
}


def measure(python: str, tree: Path, argv: list[str], timeout: float, memory_gb: float) -> tuple[float, float, str]:
    """(wall seconds, peak resident MB, how it ended) of one run as a separate process."""
    def limits():
        cap = int(memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen([python, "-c", "from scoring.cli import main; main()", *argv], cwd=tree, env=env,
                                   stdout=subprocess.DEVNULL, stderr=errors, preexec_fn=limits)
        ended = None
        while True:  # reaped here, not by Popen: wait4 gives this child's own peak memory
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                process.kill()
                _, status, usage = os.wait4(process.pid, 0)
                ended = f"killed after {timeout:.0f} s"
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        errors.seek(0)
        text = errors.read().decode("utf-8", "replace")
    if ended is None:
        ended = f"exit {os.waitstatus_to_exitcode(status)}"
        if "MemoryError" in text:
            ended += f", out of memory ({memory_gb:g} GB cap)"
        elif "Traceback" in text:
            ended += ", traceback"
    return elapsed, usage.ru_maxrss / 1024, ended


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="6748159", help="the commit to compare with (default: %(default)s)")
    parser.add_argument("--only", nargs="*", choices=list(INPUTS), help="these inputs only")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a run may take (default: %(default)s)")
    parser.add_argument("--memory", type=float, default=12, help="GB of address space a run may take (default: %(default)s)")
    parser.add_argument("--new-only", action="store_true", help="this tree only (the old code's runs take minutes)")
    args = parser.parse_args()
    sides = [("new", sys.executable, ROOT)]
    if not args.new_only:
        sides.insert(0, ("old", python_of(args.against), CACHE / args.against))
    print(f"old: {args.against}; new: this tree; {os.cpu_count()} cores; each run once, at most {args.timeout:.0f} s "
          f"and {args.memory:g} GB; load average {os.getloadavg()[0]:.1f} (a loaded machine stretches every time)")
    print("| input | " + " | ".join(f"{side}: time, peak memory, end" for side, _, _ in sides) + " |")
    print("|---" * (len(sides) + 1) + "|")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only or INPUTS:
            what, build = INPUTS[name]
            argv = ["score", *RULES, "--cases", str(build(Path(folder)))]
            cells = [measure(python, tree, argv, args.timeout, args.memory) for _, python, tree in sides]
            print(f"| {what} | " + " | ".join(f"{seconds:.2f} s, {megabytes:,.0f} MB, {ended}"
                                              for seconds, megabytes, ended in cells) + " |", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
