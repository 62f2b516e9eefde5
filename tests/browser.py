"""A real headless Chromium (Debian's, driven by Playwright) for the tests of the HTML pages.

Playwright's own browser download (`playwright install`) cannot reach its host here, so the
browser is Debian's /usr/bin/chromium, installed by scripts/ensure-browser. No skipping: a
browser that cannot be had fails the tests with the script's message.
"""
from __future__ import annotations

import re
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ENSURE = ROOT / "scripts" / "ensure-browser"
CHROMIUM = "/usr/bin/chromium"
# without the background-networking switches Chromium keeps calling home on a closed network
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
A4_POINTS = (595.92, 842.88)
MM = 96 / 25.4  # CSS pixels per millimetre


def ensure_browser() -> None:
    """Chromium and a Chinese font, installed when missing (the script is a no-op when they are there)."""
    done = subprocess.run([str(ENSURE)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"scripts/ensure-browser failed (exit {done.returncode}):\n{done.stderr.strip()}", pytrace=False)


def launched_browser():
    """A headless Chromium for the session (tests/conftest.py makes it the `browser` fixture)."""
    ensure_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@dataclass
class Loaded:
    page: Page
    url: str
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every URL the page asked for


def load(browser: Browser, path: Path, width: int = 1280, height: int = 900) -> Loaded:
    """Open a file:// page, recording errors and requests from the first byte on."""
    page = browser.new_page(viewport={"width": width, "height": height})
    loaded = Loaded(page, path.resolve().as_uri())
    page.on("console", lambda m: loaded.errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: loaded.errors.append(f"page error: {e}"))
    page.on("request", lambda r: loaded.requests.append(r.url))
    page.goto(loaded.url, wait_until="load")
    return loaded


def bars(page: Page) -> list[dict]:
    """The chart's bars in document order: department, grade, data total, drawn width and fill colour."""
    return page.eval_on_selector_all("svg.chart rect.bar", """rects => rects.map(r => ({
        department: r.dataset.department, grade: r.dataset.grade, total: Number(r.dataset.total),
        width: r.getBoundingClientRect().width, fill: getComputedStyle(r).fill}))""")


def fonts_rendering(page: Page, selector: str) -> list[dict]:
    """The platform fonts Chromium actually drew the element's text with (family, glyph count)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def pdf_page_sizes(data: bytes) -> list[tuple[float, float]]:
    """Width and height in points of every page (Chromium writes the page dictionaries uncompressed)."""
    assert data.startswith(b"%PDF-"), "not a PDF"
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", data)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]
