"""The HTML score report and bulletin: their structure, then the pages in a real headless Chromium."""
from __future__ import annotations

import copy
import json
import re
from types import SimpleNamespace

import pytest
from browser import A4_POINTS, MM, bars, fonts_rendering, load, pdf_page_sizes, png_size
from casekit import REFERENCE, ROOT, SAMPLE
from clikit import scoring

from scoring import app
from scoring.reports.html import FONTS, bulletin_html, score_html

COMBINED = ROOT / "rules" / "combined-2020.toml"
COMBINED_FIXTURE = ROOT / "rules" / "combined-2020.tests"
PRINTABLE_WIDTH = (210 - 12 - 12) * MM  # A4 less the left and right @page margins of the page's CSS


def inputs(result) -> dict:
    """What score_html reads of a result besides the ledger."""
    return {"grades": result.grades, "item_ranges": result.item_ranges, "event_dates": result.event_dates,
            "deducting_items": result.deducting_items, "figures": result.figures, "issuer": result.issuer,
            "year": result.year, "labels": result.labels}


def page(ledger: dict, args: dict) -> str:
    """score_html of a ledger (perhaps changed by a test) with the rest of its result."""
    return score_html(SimpleNamespace(ledger=ledger, **args))


@pytest.fixture(scope="session")
def sample():
    result = app.score(app.Request(str(REFERENCE), str(SAMPLE)))
    return result.ledger, inputs(result)


@pytest.fixture(scope="session")
def combined():
    result = app.score(app.Request(str(COMBINED), str(COMBINED_FIXTURE / "categories-scorers.jsonl"),
                                   departments=str(COMBINED_FIXTURE / "categories-scorers-departments.jsonl")))
    return result.ledger, inputs(result)


def sample_bulletin(ledger: dict, grades: list[str]) -> dict:
    """A June bulletin made by hand from the sample ledger: real departments, cases and ledger texts."""
    ranked = [d for d in ledger["departments"] if d["rank"] is not None]
    late = [(d, c, line) for d in ledger["departments"] for c in d["cases"] for line in c["lines"]
            if line["criterion"] == "L4" and line["points"] < 20][:6]
    coming = [(d, c) for d in ledger["departments"] for c in d["cases"]
              if c["rubric"] == "lead" and not any(line["criterion"] == "L7" and line["points"] for line in c["lines"])][:5]
    missed = [{"department": d["department"], "case": c["case"], "case_title": c["title"], "criterion": "L4",
               "title": "按时答复", "due": "2020-06-12", "cost": 20 - line["points"], "recoverable": 0,
               "record": line["text"]}
              for d, c, line in late]
    due = [{"department": d["department"], "case": c["case"], "case_title": c["title"], "criterion": "L7",
            "title": "答复公开", "due": "2020-07-10", "workdays_left": 7, "points": 10, "missing": "答复尚未公开"}
           for d, c in coming]
    departments = []
    for i, d in enumerate(ledger["departments"]):
        before = min(max(d["rank"] + (2, -1, 0, 1, -3)[i % 5], 1), len(ranked))
        previous = None if i == 7 else {"rank": before, "reachable": round(d["total"] - (before - d["rank"]) * 1.35, 2)}
        change = None if previous is None else {"reachable": round(d["total"] - previous["reachable"], 2),
                                                "rank": before - d["rank"]}
        departments.append({"department": d["department"], "rank": d["rank"], "reachable": d["total"],
                            "secured": round(d["total"] * 0.6, 2), "grade": None,
                            "cases": d["cases_scored"], "previous": previous, "change": change,
                            "missed": sum(m["department"] == d["department"] for m in missed),
                            "due_next_month": sum(m["department"] == d["department"] for m in due)})
    return {"format": "scoring-bulletin/2", "engine": ledger["engine"], "rulebook": ledger["rulebook"],
            "input": {"sha256": ledger["input"]["sha256"], "cases": ledger["input"]["cases"], "skipped": []},
            "month": "2020-06", "as_of": "2020-06-30", "previous_as_of": "2020-05-31", "final": False, "grades": grades,
            "departments": departments, "missed": missed, "due_next_month": due, "untracked": [], "dated_items": 7}


@pytest.fixture(scope="session")
def bulletin(sample):
    ledger, args = sample
    return sample_bulletin(ledger, args["grades"])


@pytest.fixture(scope="session")
def june_result():
    """The real bulletin of June on the sample, with the month end's figures."""
    return app.bulletin(app.Request(str(REFERENCE), str(SAMPLE)), "2020-06")


@pytest.fixture(scope="session")
def june(june_result):
    return june_result.document


def bar_departments(html: str) -> list[str]:
    return re.findall(r'<rect class="bar [^"]*" data-department="([^"]*)"', html)


# ---------------------------------------------------------------- the page's structure

def test_every_department_case_and_ledger_line_is_on_the_page(sample):
    ledger, args = sample
    html = page(ledger, args)
    assert html.count('<details class="department"') == len(ledger["departments"]) == 15
    assert html.count('<details class="case"') == ledger["input"]["handlers"]
    assert bar_departments(html) == [d["department"] for d in ledger["departments"]]
    for d in ledger["departments"]:
        for text in [line["text"] for line in d["lines"]] + [line["text"] for c in d["cases"] for line in c["lines"]]:
            assert f"<td>{text}</td>" in html  # the sample's texts have nothing to escape


def test_a_criterion_shows_its_points_against_its_range(sample):
    ledger, args = sample
    html = page(ledger, args)
    first = ledger["departments"][0]
    l5 = next(c for c in first["criteria"] if c["criterion"] == "L5")
    assert args["item_ranges"]["L5"] == (0, 30) and args["item_ranges"]["D1"] == (-5, 0)
    body = html.split('id="d1"')[1].split('id="d2"')[0]
    assert (f'<td>L5</td><td>办理结果</td><td>每件平均</td><td class="num">{l5["points"]:.2f}</td>'
            '<td class="num">0 … 30</td>') in body
    assert '<td>D1</td><td>督办</td><td>部门</td><td class="num">0.00</td><td class="num">−5 … 0</td>' in body


def test_evidence_is_shown_with_the_dates_of_its_events(sample):
    ledger, args = sample
    html = page(ledger, args)
    d2 = next(line for line in ledger["departments"][0]["lines"] if line["criterion"] == "D2")
    case, _, event = d2["evidence"][0].partition("/")
    day = args["event_dates"][(case, event)]
    assert f'<span class="ev"><code>{d2["evidence"][0]}</code> {day.isoformat()}</span>' in html


def test_data_text_is_escaped(sample, bulletin):
    ledger, args = copy.deepcopy(sample)
    nasty = '市<b>&"局'
    d = ledger["departments"][0]
    d["department"] = nasty
    d["cases"][0]["title"] = "<script>alert(1)</script>"
    d["cases"][0]["lines"][0]["text"] = "超过 <期限> & \"说明\""
    html = page(ledger, args)
    assert nasty not in html and "<script>alert" not in html and "<期限>" not in html
    assert html.count("市&lt;b&gt;&amp;&quot;局") >= 4  # ranking, chart label, bar's data-department, drill-down
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "超过 &lt;期限&gt; &amp; &quot;说明&quot;" in html
    bad = copy.deepcopy(bulletin)
    bad["departments"][0]["department"] = bad["missed"][0]["record"] = nasty
    bulletin_page = bulletin_html(bad)
    assert nasty not in bulletin_page and bulletin_page.count("市&lt;b&gt;&amp;&quot;局") >= 4


def test_same_inputs_give_the_same_bytes(sample, bulletin):
    ledger, args = sample
    first = page(ledger, args)
    assert page(json.loads(json.dumps(ledger)), args) == first  # the ledger read back from its JSON
    assert bulletin_html(json.loads(json.dumps(bulletin))) == bulletin_html(bulletin)


def test_the_pages_reference_nothing_outside_themselves(sample, bulletin):
    ledger, args = sample
    for html in (page(ledger, args), bulletin_html(bulletin)):
        assert "http://" not in html and "https://" not in html and "src=" not in html
        assert "url(" not in html and "@import" not in html and "<link" not in html
        assert set(re.findall(r'href="(.)', html)) <= {"#"}  # only links within the page
        assert html.startswith("<!DOCTYPE html>\n") and '<html lang="zh-CN">' in html and '<meta charset="utf-8">' in html
        assert FONTS in html and "@page { size: A4;" in html and "print-color-adjust: exact" in html


def test_an_unranked_department_gets_no_bar(sample):
    ledger, args = copy.deepcopy(sample)
    gone = ledger["departments"][4]
    gone.update(rank=None, total=None, grade=None)
    html = page(ledger, args)
    assert gone["department"] not in bar_departments(html) and len(bar_departments(html)) == 14
    assert f'text-anchor="end">{gone["department"]}</text><text class="unranked"' in html
    assert "未排名" in html and "未排名（不画条形）" in html


def test_categories_scorers_and_groups_are_shown(combined):
    ledger, args = combined
    html = page(ledger, args)
    assert '<th class="num opt">建议</th>' in html and '<th class="num opt">提案</th>' in html and ">考评</th>" in html
    assert "括号内为件数；各类别小计按权重计入总分" in html  # the notes of the terminal table
    assert "<h4>各类别小计</h4>" in html and "<h4>各评分方</h4>" in html
    assert '<tr class="sub"><th colspan="5">建议</th></tr>' in html and '<th colspan="5">合计</th>' in html
    assert '<text class="group"' in html and ">社会</text>" in html and ">经济</text>" in html
    # 市卫生健康委 has a total and a grade but too few cases to be ranked: no bar, its total in words
    assert bar_departments(html) == ["市教育局", "市发展改革委", "市财政局"]
    assert "未排名（总分 98.60）" in html


def test_grades_have_different_colours(sample):
    ledger, args = sample
    html = page(ledger, args)
    colours = re.findall(r"\.grade-\d \{ --grade: (#[0-9a-f]{6}); \}", html)
    assert len(colours) == len(args["grades"]) == len(set(colours))


def test_the_bulletin_shows_changes_missed_and_coming_deadlines(bulletin):
    html = bulletin_html(bulletin)
    assert "<title>2020-06 月度通报</title>" in html and "截至 2020-06-30（上月截至 2020-05-31）" in html
    assert '<span class="up">↑2</span>' in html and '<span class="down">↓1</span>' in html and "持平" in html
    assert '<span class="down">−1.35</span>' in html and '<span class="up">+2.70</span>' in html
    assert html.count("<tr>", html.index('class="missed"')) >= len(bulletin["missed"]) > 0
    for item in bulletin["missed"]:
        assert f"<td>{item['record']}</td>" in html and f"<code>{item['case']}</code>" in html
    for item in bulletin["due_next_month"]:
        assert f"<code>{item['case']}</code>" in html
    assert bar_departments(html) == [d["department"] for d in bulletin["departments"]]


def test_a_bulletin_with_nobody_ranked_yet_renders(bulletin):
    early = copy.deepcopy(bulletin) | {"missed": [], "due_next_month": [], "previous_as_of": None}
    for d in early["departments"]:
        d.update(rank=None, reachable=None, secured=None, previous=None, change=None)
    html = bulletin_html(early)
    assert bar_departments(html) == [] and html.count("未排名</text>") == len(early["departments"])
    assert html.count('<p class="note">无。</p>') == 2 and "上月截至" not in html


# ---------------------------------------------------------------- in the browser

@pytest.fixture(scope="session")
def pages(tmp_path_factory, sample, june_result):
    """The pages as the command line writes them."""
    folder = tmp_path_factory.mktemp("html")
    for args in (["score", "--format", "html", "--out", folder / "report.html"],
                 ["bulletin", "--month", "2020-06", "--format", "html", "--out", folder / "bulletin.html"]):
        result = scoring(*args, "--rules", REFERENCE, "--cases", SAMPLE)
        assert result.returncode == 0, result.stderr
    ledger, args = sample
    assert (folder / "report.html").read_text(encoding="utf-8") == page(ledger, args)
    assert (folder / "bulletin.html").read_text(encoding="utf-8") == bulletin_html(june_result.document, None,
                                                                                  june_result.figures)
    return folder


def test_the_pages_open_with_the_pooled_figures_and_close_with_the_hashes(sample, june_result):
    ledger, args = sample
    book, source = ledger["rulebook"], ledger["input"]
    hashes = f"规则 sha256 {book['sha256'][:12]} · 输入 sha256 {source['sha256'][:12]}"
    for html, figures in ((page(ledger, args), ["办件 209 件", "部门 15 个", "面商率 68.0%（153/225）"]),
                          (bulletin_html(june_result.document, None, june_result.figures),
                           ["办件 190 件", "部门 15 个", "面商率 64.4%（132/205）"])):
        header = html[html.index("<header>"):html.index("</header>")]
        assert '<ul class="figures">' + "".join(f"<li>{f}</li>" for f in figures) + "</ul>" in header
        assert "规则 proposal-handling 1.0.0" in header and "sha256" not in header  # the header says what a reader needs
        footer = html[html.index("<footer>"):html.index("</footer>")]
        assert f'<span class="hashes">{hashes}</span>' in footer
        assert html.count("sha256") == 2  # nowhere else


def test_an_otherwise_line_says_whether_its_zero_is_good_or_bad(sample):
    ledger, args = sample
    html = page(ledger, args)
    assert "未命中" not in html
    kinds = re.findall(r'<tr class="kind-otherwise"><td>([A-Z]\d)</td><td>([^<]*)</td>', html)
    found = {(item, kind) for item, kind in kinds}
    # L3 deducts (no contact before the reply): its otherwise line is 未扣分; L1, L7, H1 award: 未得分
    assert {("L3", "未扣分"), ("D1", "未扣分"), ("L1", "未得分"), ("L7", "未得分"), ("H1", "未得分")} <= found
    assert {kind for item, kind in found if item in ("L3", "D1")} == {"未扣分"}
    assert {kind for item, kind in found if item in ("L1", "L2", "L4", "L5", "L6", "L7", "H1")} == {"未得分"}


def test_browser_on_a_phone_the_ranking_totals_and_grades_fit(browser, pages):
    for name, figure in (("report.html", "总分"), ("bulletin.html", "可达分")):
        loaded = load(browser, pages / name, width=390, height=844)
        phone = loaded.page
        assert loaded.errors == []
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        # the figures at the top: every one on the screen
        for box in phone.eval_on_selector_all("ul.figures li", "es => es.map(e => e.getBoundingClientRect().toJSON())"):
            assert box["left"] >= 0 and box["right"] <= 390
        headers = phone.eval_on_selector_all(
            "table.ranking thead th", "es => es.filter(e => e.offsetParent).map(e => [e.textContent, "
                                      "e.getBoundingClientRect().right])")
        shown = [text for text, _ in headers]
        assert {"排名", "部门", figure} <= set(shown) and all(right <= 390 for _, right in headers), headers
        assert ("等级" if name == "report.html" else "已得分") in shown
        grades = phone.eval_on_selector_all("table.ranking .badge", "es => es.map(e => e.getBoundingClientRect().right)")
        assert all(right <= 390 for right in grades)
    # at the desktop width every column is there
    desktop = load(browser, pages / "report.html").page
    assert desktop.eval_on_selector_all("table.ranking thead th", "es => es.filter(e => e.offsetParent).length") == 9


def test_browser_loads_the_report_offline_without_errors(browser, pages):
    loaded = load(browser, pages / "report.html")
    assert loaded.errors == []
    assert loaded.requests == [loaded.url]
    assert loaded.page.title() == "建议提案办理质量评价（参考方案） · 评价结果"


def test_browser_chart_bars_follow_the_totals(browser, pages, sample):
    ledger, _ = sample
    found = bars(load(browser, pages / "report.html").page)
    ranked = [d for d in ledger["departments"] if d["rank"] is not None]
    assert [b["department"] for b in found] == [d["department"] for d in ranked] and len(found) == 15
    assert [b["total"] for b in found] == [d["total"] for d in ranked]
    widths = [b["width"] for b in found]
    assert widths == sorted(widths, reverse=True) and widths[-1] > 0
    for b in (found[4], found[9], found[-1]):  # drawn lengths in proportion to the totals
        assert b["width"] / found[0]["width"] == pytest.approx(b["total"] / found[0]["total"], rel=0.01)
    fills = {}
    for b in found:
        fills.setdefault(b["grade"], set()).add(b["fill"])
    assert len(fills) == 4 and all(len(f) == 1 for f in fills.values())
    assert len(set.union(*fills.values())) == 4  # one colour per grade, a different one for each


def test_browser_draws_chinese_with_a_chinese_font(browser, pages):
    page = load(browser, pages / "report.html").page
    chinese = [name.strip().strip('"') for name in FONTS.split(",")][:-1]
    for selector in ("h2", "svg.chart text.label"):  # 排名; 市知识产权局
        used = fonts_rendering(page, selector)
        text = page.eval_on_selector(selector, "e => e.textContent")
        assert [f["familyName"] for f in used if f["familyName"] in chinese], used  # not tofu from a Latin font
        assert sum(f["glyphCount"] for f in used if f["familyName"] in chinese) == len(text)


def test_browser_drill_down_opens_a_department_then_a_case(browser, pages, sample):
    ledger, _ = sample
    index, department = next((i, d) for i, d in enumerate(ledger["departments"], 1) if d["department"] == "市民政局")
    number, case = next((n, c) for n, c in enumerate(department["cases"]) if c["lines"] and c["lines"][0]["text"])
    page = load(browser, pages / "report.html").page
    block = page.locator(f"#d{index}")
    case_block = block.locator("details.case").nth(number)
    line = case_block.locator("td", has_text=case["lines"][0]["text"]).first
    assert not line.is_visible()
    block.locator("summary").first.click()
    assert case_block.locator("summary").is_visible() and not line.is_visible()
    case_block.locator("summary").click()
    assert line.is_visible()
    assert case["title"] in case_block.locator("summary").inner_text()


def test_browser_screenshot_and_a4_print(browser, pages, tmp_path):
    loaded = load(browser, pages / "report.html", width=1280, height=900)
    page = loaded.page
    shot = page.screenshot(path=tmp_path / "report.png")
    assert png_size(shot) == (1280, 900) and len(shot) > 10_000
    pdf = page.pdf(path=tmp_path / "report.pdf", format="A4")
    sizes = pdf_page_sizes(pdf)
    assert len(sizes) >= 2 and all(s == pytest.approx(A4_POINTS, abs=0.5) for s in sizes)
    # laid out as for print, on the printable width, every drill-down open: nothing sticks out
    page.emulate_media(media="print")
    page.set_viewport_size({"width": int(PRINTABLE_WIDTH), "height": 1100})
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    right = page.eval_on_selector("svg.chart", "e => e.getBoundingClientRect().right")
    assert 0.9 * PRINTABLE_WIDTH < right <= PRINTABLE_WIDTH
    assert page.evaluate("document.documentElement.scrollWidth") <= int(PRINTABLE_WIDTH)
    assert loaded.errors == []


def test_browser_loads_the_bulletin(browser, pages, june):
    bulletin = june
    assert bulletin["missed"] and bulletin["due_next_month"]
    loaded = load(browser, pages / "bulletin.html")
    assert loaded.errors == [] and loaded.requests == [loaded.url]
    page = loaded.page
    assert len(bars(page)) == sum(d["rank"] is not None for d in bulletin["departments"]) == 15
    missed = page.locator("table.missed tbody tr")
    assert missed.count() == len(bulletin["missed"]) and missed.first.is_visible()
    assert page.locator("table.missed").get_by_text(bulletin["missed"][0]["record"]).first.is_visible()
    assert page.locator("table.due tbody tr").count() == len(bulletin["due_next_month"])
    assert png_size(page.screenshot()) == (1280, 900)
    assert all(s == pytest.approx(A4_POINTS, abs=0.5) for s in pdf_page_sizes(page.pdf(format="A4")))
