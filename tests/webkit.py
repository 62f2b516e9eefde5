"""The web workbench in tests: an app over a fresh working directory and store, and its forms."""
from __future__ import annotations

import html
import io
import re
from pathlib import Path

from casekit import ROOT

from scoring.web import Settings, create_app

RULES = ROOT / "rules"
REGISTER = ROOT / "samples" / "register-2020.xlsx"
REFERENCE_REF = "proposal-handling.toml"  # the shipped rulebook, as pages name it
WAIVER_REF = "overlays/phone-waiver.toml"


def workbench(directory: Path, **settings):
    """A Flask app over `directory` (uploads and the run store there) and the repository's rules."""
    return create_app(Settings(directory, directory / "runs.db", RULES, **settings))


def csrf(client) -> str:
    """The secret every form that changes something carries (as the home page's forms have it)."""
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)


def upload(client, kind: str, name: str, data: bytes, secret: str | None = None):
    return client.post("/upload", data={"csrf": secret or csrf(client), "kind": kind, "file": (io.BytesIO(data), name)})


def problems(page: str) -> list[str]:
    """The problems an error page lists, as the command line prints them."""
    return [html.unescape(p) for p in re.findall(r"<li><code>(.*?)</code></li>", page, re.S)]


def message(page: str) -> str:
    return html.unescape(re.search(r'<p class="message">(.*?)</p>', page, re.S).group(1))
