"""Run the command line as a user does: a separate process, real files."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from casekit import ROOT, SAMPLE

SCRIPT = Path(sys.executable).with_name("scoring")


def scoring(*args, cwd=ROOT, env=None):
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, str(ROOT / "cli.py")]
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=300, env=env)


def shuffled_sample(tmp_path, seed: int):
    """The sample file with its cases, events and handlers in another order."""
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    rng.shuffle(rows)
    for row in rows:
        rng.shuffle(row["events"])
        rng.shuffle(row["handlers"])
    shuffled = tmp_path / f"shuffled-{seed}.jsonl"
    shuffled.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return shuffled
