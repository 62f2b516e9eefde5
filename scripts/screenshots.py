"""The README's pictures, made from the sample year in headless Chromium: `python scripts/screenshots.py`.

    docs/report.png          the HTML year report at a desktop's width (its top: figures, ranking)
    docs/report-phone.png    the same report on a phone, 390 px wide
    docs/bulletin.png        the June bulletin's HTML page
    docs/workbench.png              `scoring serve`: the start page, the sample register uploaded
    docs/workbench-self-check.png   `scoring serve`: a department's self-check

The reports are written by the installed `scoring` beside this interpreter, the workbench is
`scoring serve` run as a process (stopped with Ctrl-C's signal whatever happens), and the
browser is the one scripts/ensure-browser installs (Debian's chromium, driven by Playwright).
Each picture is a crop of the top of its page at a device scale of 1, so that they stay small
(a few hundred KB together). The pictures depend on the fonts installed: they are not pinned by
the golden outputs, and running this again rewrites them.
"""
from __future__ import annotations

import argparse
import re
import selectors
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SCORING = Path(sys.executable).with_name("scoring")
RULES, CASES = ROOT / "rules", ROOT / "samples" / "cases-2020.jsonl"
REFERENCE = RULES / "proposal-handling.toml"
REGISTER = ROOT / "samples" / "register-2020.xlsx"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "screenshots"
DESKTOP, PHONE, SHORT = (1000, 620), (390, 700), (1000, 520)  # viewport width and the height of each crop


def scoring(*args) -> None:
    subprocess.run([str(SCORING), "-q", *map(str, args)], check=True, cwd=ROOT)


def reports(folder: Path) -> tuple[Path, Path]:
    """The year report and the June bulletin as the command line writes them."""
    report, bulletin = folder / "report.html", folder / "bulletin.html"
    scoring("score", "--rules", REFERENCE, "--cases", CASES, "--format", "html", "--out", report)
    scoring("bulletin", "--rules", REFERENCE, "--cases", CASES, "--month", "2020-06", "--format", "html",
            "--issuer", "市政府督查室", "--issued", "2020-07-03", "--out", bulletin)
    return report, bulletin


class Workbench:
    """`scoring serve` on a free port with the sample register uploaded, stopped on leaving."""

    def __init__(self, folder: Path):
        from scoring.web.inputs import Library
        library = Library(folder, None)
        self.register = library.keep(library.stage("cases", REGISTER.name, REGISTER.read_bytes())).ref
        self.command = [str(SCORING), "serve", "--port", "0", "--token", TOKEN, "--workdir", str(folder),
                        "--store", str(folder / "runs.db"), "--rules", str(RULES)]
        self.folder = folder

    def __enter__(self) -> Workbench:
        self.log = (self.folder / "server.log").open("w")
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=self.folder)
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            said = self.process.stdout.readline() if selector.select(60) else ""
        found = re.search(r"(http://127\.0\.0\.1:\d+)/", said)
        if not found:
            self.__exit__()
            sys.exit(f"scoring serve did not start: {said!r}; see {self.folder / 'server.log'}")
        self.base = found.group(1)
        return self

    def url(self, path: str, **query) -> str:
        chosen = {"cases": self.register, "rules": REFERENCE.name, "token": TOKEN}
        return f"{self.base}{path}?{urlencode({**chosen, **query})}"

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.log.close()


def shoot(browser, url: str, path: Path, size: tuple[int, int], wait_for: str | None = None) -> int:
    """The top of the page at `url`, `size` (width, height) on a screen of that width, as a PNG at `path`; its bytes."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.goto(url, wait_until="load")
    if wait_for:
        page.wait_for_selector(wait_for)
    data = page.screenshot(path=path, clip={"x": 0, "y": 0, "width": size[0], "height": size[1]})
    context.close()
    return len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="the folder of the pictures (default docs/)")
    out = parser.parse_args().out
    subprocess.run([str(ROOT / "scripts" / "ensure-browser")], check=True)
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as temporary, sync_playwright() as playwright:
        folder = Path(temporary)
        report, bulletin = reports(folder)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        sizes = {
            "report.png": shoot(browser, report.as_uri(), out / "report.png", DESKTOP),
            "report-phone.png": shoot(browser, report.as_uri(), out / "report-phone.png", PHONE),
            "bulletin.png": shoot(browser, bulletin.as_uri(), out / "bulletin.png", SHORT),
        }
        served = folder / "served"
        served.mkdir()
        with Workbench(served) as bench:
            sizes["workbench.png"] = shoot(browser, bench.url("/"), out / "workbench.png", SHORT)
            sizes["workbench-self-check.png"] = shoot(
                browser, bench.url("/self-check", department="市民政局", as_of="2020-06-05"),
                out / "workbench-self-check.png", SHORT, "table.standing")
        browser.close()
    for name, size in sizes.items():
        print(f"{out / name}: {size // 1024} KB")
    print(f"together {sum(sizes.values()) // 1024} KB")


if __name__ == "__main__":
    main()
