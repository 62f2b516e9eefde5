"""The web workbench in a real headless Chromium, against `scoring serve` running as a separate process.

What a department officer does (upload the register, check the department, download the
workbook), what a supervisor does (drill down from the ranking to a case), two people at
once, and a phone's width. The server runs with a token, as it would on an office network.
One server for the module, started on a free port (`--port 0`: the server prints the port it
got once it listens) and stopped with Ctrl-C's signal whatever the tests do.
"""
from __future__ import annotations

import hashlib
import io
import re
import selectors
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import openpyxl
import pytest
from browser import fonts_rendering, png_size
from casekit import ROOT
from webkit import REFERENCE_REF, REGISTER, RULES

from scoring.reports.html import FONTS
from scoring.web.inputs import Library

SCRIPT = Path(sys.executable).with_name("scoring")
TOKEN = "browser-test-token"
REGISTER_REF = hashlib.sha256(REGISTER.read_bytes()).hexdigest()
CHOSEN = {"cases": REGISTER_REF, "rules": REFERENCE_REF}
STARTUP = 60  # seconds for the server to say where it listens (it loads the library in its forkserver first)
CHINESE_FONTS = [name.strip().strip('"') for name in FONTS.split(",")][:-1]
BRAND = "rgb(159, 29, 32)"  # #9f1d20, the headings' colour: the page has its style


@dataclass
class Server:
    base: str  # http://127.0.0.1:PORT
    log: Path

    def url(self, path: str = "/", token: bool = False, **query) -> str:
        query = {**query, "token": TOKEN} if token else query
        return self.base + path + ("?" + urlencode(query) if query else "")


def first_line(process: subprocess.Popen, timeout: float) -> str:
    """The first line the server prints, waiting at most `timeout` seconds (a hung start fails, it does not hang)."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`scoring serve` on a free port of 127.0.0.1, with the sample register already uploaded."""
    work = tmp_path_factory.mktemp("served")
    library = Library(work, None)
    library.keep(library.stage("cases", REGISTER.name, REGISTER.read_bytes()))
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, str(ROOT / "cli.py")]
    command += ["serve", "--port", "0", "--token", TOKEN, "--workdir", str(work), "--store", str(work / "runs.db"),
                "--rules", str(RULES)]
    log_path = work / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=work)
        try:
            said = first_line(process, STARTUP)
            found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=" + TOKEN, said)
            assert found, f"the server said {said!r} within {STARTUP} s; its log: {log_path.read_text()}"
            yield Server(found.group(1), log_path)  # it prints the address once it listens: no waiting, no polling
        finally:
            process.send_signal(signal.SIGINT)  # what Ctrl-C does
            try:
                stopped = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                stopped = None
            process.stdout.close()
    assert stopped == 0, f"the server did not stop on Ctrl-C's signal (exit {stopped}); its log: {log_path.read_text()}"


def watched(context, server: Server):
    """A page that records console errors (CSP refusals and failed loads included) and any request off the server."""
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(server.base) else page.problems.append(f"request {r.url}"))
    return page


def chinese_glyphs_drawn(page, selector: str) -> bool:
    """The element's Chinese text is drawn with one of the report's Chinese fonts (installed by scripts/ensure-browser)."""
    used = fonts_rendering(page, selector)
    return any(f["familyName"] in CHINESE_FONTS and f["glyphCount"] for f in used)


def test_an_officer_uploads_the_register_checks_the_department_and_downloads_the_workbook(browser, server, tmp_path):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = watched(context, server)
    page.goto(server.url(token=True))
    page.select_option("select[name=kind]", "cases")
    page.set_input_files("input[name=file]", str(REGISTER))
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_url(re.compile(r"/inputs/" + REGISTER_REF))
    assert "209 件" in page.inner_text("main") and "市民政局" in page.inner_text("main")
    page.get_by_role("link", name="选用此文件").click()
    page.select_option("select[name=rules]", REFERENCE_REF)
    page.get_by_role("button", name="部门自查").click()
    page.select_option("select[name=department]", "市民政局")
    page.fill("input[name=as_of]", "2020-06-05")
    page.get_by_role("button", name="自查", exact=True).click()
    page.wait_for_selector("table.standing")
    standing = page.inner_text("table.standing")
    assert "73.65" in standing and "94.00" in standing and "合格" in standing and "优秀" in standing
    assert page.get_by_text("尚未答复（答复期限2020-07-03）").first.is_visible()
    assert chinese_glyphs_drawn(page, "h1") and chinese_glyphs_drawn(page, "nav.top a.active")
    with page.expect_download() as download:
        page.get_by_role("link", name="自查（XLSX）").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "自查-市民政局-2020-06-05.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()))
    assert workbook.sheetnames == ["自查", "待办", "明细"]
    cells = [c for row in workbook["自查"].iter_rows(values_only=True) for c in row if c is not None]
    assert "已得分 73.65（合格）；可达上限 94.00（优秀）" in " ".join(map(str, cells))
    assert 16.15 in cells  # L6's secured points, a number in its cell (not text)
    assert page.problems == []
    context.close()


def test_a_supervisor_drills_down_from_the_ranking_to_a_case(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = watched(context, server)
    page.goto(server.url("/ranking", token=True, **CHOSEN))
    assert page.locator("table.ranking tbody tr").count() == 15
    # the report's own buttons are readable in the workbench's frame: not white on white
    expand = page.get_by_role("button", name="全部展开")
    colour, background = expand.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert colour != background and background == "rgb(255, 255, 255)", (colour, background)
    page.locator("table.ranking").get_by_role("link", name="市民政局").click()
    department = page.locator("details.department[open]")
    assert department.count() == 1 and "市民政局" in department.locator("summary").first.inner_text()
    case = department.locator("details.case").first
    line = case.locator("table.lines tbody tr").first
    assert not line.is_visible()
    case.locator("summary").click()
    assert line.is_visible() and re.search(r"[+−]?\d", line.locator("td.num").inner_text())
    assert page.problems == []
    context.close()


def test_two_people_use_it_at_the_same_time(browser, server):
    first, second = browser.new_context(locale="zh-CN"), browser.new_context(locale="zh-CN")
    officer, supervisor = watched(first, server), watched(second, server)
    refused = supervisor.goto(server.url("/ranking", **CHOSEN))
    assert refused.status == 403 and "访问令牌" in supervisor.inner_text("main")  # the other's token is not shared
    # the refusal is a page a person can read (its style is in it), and it shows nothing of the server's files
    assert supervisor.locator("h1").evaluate("h => getComputedStyle(h).color") == BRAND
    assert "runs.db" not in supervisor.content() and len(supervisor.problems) == 1  # the page's own 403, nothing else
    supervisor.problems.clear()
    officer.goto(server.url(token=True))
    timings = {}
    officer.on("requestfinished", lambda r: timings.setdefault("officer", r.timing) if "/self-check" in r.url else None)
    supervisor.on("requestfinished", lambda r: timings.setdefault("supervisor", r.timing) if "/ranking" in r.url else None)
    # the officer's self-check is sent, and while the server works on it the supervisor asks for the ranking
    # (only once the officer's request has left: a navigation set off by a script starts a moment later, and a
    # quick ranking could otherwise come and go before it)
    with officer.expect_request(lambda r: "/self-check" in r.url):
        officer.evaluate("url => { location.href = url; }",
                         server.url("/self-check", **CHOSEN, department="市教育局", as_of="2020-09-30"))
    supervisor.goto(server.url("/ranking", token=True, **CHOSEN))
    officer.wait_for_selector("table.standing")
    assert officer.locator("h1").inner_text() == "市教育局 · 自查" and "截至 2020-09-30" in officer.inner_text("header")
    assert supervisor.locator("table.ranking tbody tr").count() == 15
    assert officer.problems == [] and supervisor.problems == []
    # both were on the server at once: each request started before the other's answer had come back
    a, b = timings["officer"], timings["supervisor"]
    assert a["startTime"] < b["startTime"] + b["responseEnd"] and b["startTime"] < a["startTime"] + a["responseEnd"], timings
    first.close()
    second.close()


def test_a_phone_needs_no_sideways_scrolling(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1, locale="zh-CN")
    page = watched(context, server)
    page.goto(server.url("/self-check", token=True, **CHOSEN, department="市民政局", as_of="2020-06-05"))
    page.wait_for_selector("table.standing")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("table.standing").bounding_box()["width"] <= 390
    # a wide table scrolls in its own box, and its text is not squeezed to a character a line
    narrowest = page.eval_on_selector_all("main td:not(.num)", """cells => Math.min(...cells
        .filter(c => c.offsetParent && c.textContent.trim().length > 4).map(c => c.getBoundingClientRect().width))""")
    assert narrowest >= 80, f"a text cell {narrowest:.0f} px wide"
    assert page.locator("table.items code").first.evaluate("c => c.getClientRects().length") == 1  # a case number, whole
    assert chinese_glyphs_drawn(page, "h1")
    shot = page.screenshot(path=tmp_path / "phone-self-check.png")
    assert png_size(shot) == (390, 844)
    page.goto(server.url("/ranking", **CHOSEN))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    chart = page.locator("svg.chart")
    assert chart.bounding_box()["width"] >= 600  # scrolled in its box, its labels legible (a 720-wide drawing)
    assert chinese_glyphs_drawn(page, "svg.chart text.label")
    page.goto(server.url("/", **CHOSEN))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.problems == []
    context.close()
