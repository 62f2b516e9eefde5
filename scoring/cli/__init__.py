"""The `scoring` command line: a thin layer over the library (see commands.py)."""
from .commands import main, run

__all__ = ["main", "run"]
