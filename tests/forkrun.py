"""The command line in a forked child with a time limit: for inputs that once made it run for ever.

A hang in exact arithmetic (an integer of a billion digits) sits in one C call that no signal
interrupts, so the test cannot time it out in its own process; a forked child costs a few
milliseconds (a new interpreter would cost a second). Uses only `scoring.cli.main`, so these
tests run unchanged against older versions of the program.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Finished:
    returncode: int | None  # None: still running at the limit (killed)
    stdout: str
    stderr: str
    seconds: float


def _child(connection, args):
    from click.testing import CliRunner

    from scoring.cli import main
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, [str(a) for a in args])
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(result.exception))
        connection.send((result.exit_code, result.stdout, stderr))
    except BaseException:
        connection.send((99, "", traceback.format_exc()))


def scoring_within(*args, seconds: float = 20) -> Finished:
    """Run `scoring ARGS` in a forked child; kill it after `seconds`."""
    import time
    receive, send = mp.get_context("fork").Pipe(duplex=False)
    child = mp.get_context("fork").Process(target=_child, args=(send, args))
    started = time.monotonic()
    child.start()
    send.close()
    if receive.poll(seconds):
        code, out, err = receive.recv()
        child.join()
        return Finished(code, out, err, time.monotonic() - started)
    child.kill()
    child.join()
    return Finished(None, "", f"still running after {seconds} s", time.monotonic() - started)
