"""Time whole commands as a user runs them, against another commit in the same run.

    python bench/commands.py                      # this tree against 6748159 (before the session)
    python bench/commands.py --against COMMIT --repeat 7

The other commit is checked out beside the repository (a git worktree in .bench/) with a
virtual environment of its own, made once and reused. Each command runs alternately with the
old and the new code, `--repeat` times each, as a separate process (`python -m`-style, from the
repository root, output to /dev/null); the table gives the median wall time, the best, and the
ratio old/new (above 1: the new code is faster). Each command runs once more on each side first,
not counted, so that both run from cached bytecode as an installation does. The machine is shared:
compare runs of one invocation, not figures across invocations.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"
RULES = ["--rules", "rules/proposal-handling.toml", "--cases", "samples/cases-2020.jsonl"]
COMMANDS = {
    "bulletin 2020-06": ["bulletin", *RULES, "--month", "2020-06"],
    "self-check (72 cases)": ["self-check", *RULES, "--department", "市市场监管局", "--as-of", "2020-06-30"],
    "self-check (18 cases)": ["self-check", *RULES, "--department", "市民政局", "--as-of", "2020-06-05"],
    "score (209 cases)": ["score", *RULES],
    "--help": ["--help"],
}


def python_of(commit: str) -> str:
    """The interpreter of a venv with `commit` installed (made on first use)."""
    tree = CACHE / commit
    python = tree / ".venv" / "bin" / "python"
    if not python.exists():
        CACHE.mkdir(exist_ok=True)
        if not tree.exists():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], check=True)
        subprocess.run([sys.executable, "-m", "venv", str(tree / ".venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(tree)], check=True)
    return str(python)


# As a user's installation runs: with its modules' bytecode cached. Where PYTHONDONTWRITEBYTECODE is set
# (some shells and sandboxes set it), every run would compile every module of the tool again, which
# costs the larger code more and is not what a user waits for.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(python: str, tree: Path, argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([python, "-c", "from scoring.cli import main; main()", *argv], cwd=tree, env=ENV,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {tree}: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="6748159", help="the commit to compare with (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    old_python, old_tree = python_of(args.against), CACHE / args.against
    new_python = sys.executable
    print(f"old: {args.against} ({old_python}); new: this tree ({new_python}); {os.cpu_count()} cores; "
          f"{args.repeat} runs each, alternating")
    print(f"{'command':<24}{'old median':>12}{'new median':>12}{'old best':>10}{'new best':>10}{'old/new':>9}")
    for name, argv in COMMANDS.items():
        timed(old_python, old_tree, argv), timed(new_python, ROOT, argv)  # not counted: writes the bytecode caches
        old, new = [], []
        for _ in range(args.repeat):
            old.append(timed(old_python, old_tree, argv))
            new.append(timed(new_python, ROOT, argv))
        ratio = statistics.median(old) / statistics.median(new)
        print(f"{name:<24}{statistics.median(old):>11.2f}s{statistics.median(new):>11.2f}s"
              f"{min(old):>9.2f}s{min(new):>9.2f}s{ratio:>8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
