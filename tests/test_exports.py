"""derive export (SPEC §11): the HTML key (in headless Chromium when installed), Moodle XML and Canvas QTI 1.2,
their escaping, tolerances and variants, and the round trip of every number against the build's JSON."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from derive import registry
from derive.build import solve_all
from derive.contract import problems as kind_examples
from derive.engine import solve
from derive.exports.figures import NOTE, figure_html
from derive.exports.htmltext import inline_math
from derive.exports.mathml import MathMLError, checked, to_mathml
from derive.limits import DEFAULT
from derive.render import Prose, answer_line, display
from derive.resources import resource
from derive.spec import load
from derive.values import has_mapping

WORKSHEET = resource("problems/worksheet.yaml")
LAYOUT_WIDE = Path(__file__).resolve().parent / "layout_specs" / "forward_wide.yaml"   # a 10×12 drawn matrix
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NUMERICAL = re.compile(r"\{1:NUMERICAL:=([^:}]+):([^}]+)\}")
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
HOSTILE = """
title: "Hostile <script>alert('t')</script> & co"
course: "</title><script>x()</script>"
problems:
  - id: h1
    kind: softmax
    title: "<img src=x onerror=alert(1)> & </math>"
    statement: |
      A <script>alert("s")</script> statement with </math> and & and {1:NUMERICAL:=5:0} and ]]> and
      a formula $\\text{</math><script>y()</script>} + \\frac{1}{2}$ and $a < b$.
    logits: [2.0, 1.0, 0.1]
  - id: h2
    kind: text
    statement: "Explain <b>why</b> & {braces}."
    answer: "Because <script>z()</script> & {1:NUMERICAL:=1:0}."
"""
MODES = """
title: Modes
check: {rtol: 0.02}
problems:
  - {id: d, kind: softmax, logits: [2.0, 1.0, 0.1]}
  - {id: a, kind: softmax, logits: [2.0, 1.0, 0.1], check: {mode: absolute, atol: 0.001}}
  - {id: s, kind: softmax, logits: [2.0, 1.0, 0.1], check: {mode: sigfig, digits: 3}}
  - {id: m, kind: softmax, logits: [2.0, 1.0, 0.1], check: {mode: decimals, digits: 2}}
  - {id: n, kind: network, input: [3], layers: [{dense: 4}, {dense: 2}]}
"""
DRAWS = """
title: Drawn
seed: 3
problems:
  - id: p1
    kind: softmax
    logits: {draw: uniform, low: -2, high: 2, decimals: 1, shape: [3]}
  - {id: p2, kind: network, input: [3], layers: [{dense: 4}, {dense: 2}]}
"""


# ---- every LaTeX construct derive writes converts -------------------------------------------------------------

def all_solutions() -> list:
    """The solutions of every bundled spec (problems/**/*.yaml) and of every installed kind's examples."""
    out = []
    for spec in sorted(WORKSHEET.parent.rglob("*.yaml")):
        out.extend(solve_all(load(spec), DEFAULT))
    for name in registry.names():
        out.extend(solve(p) for p in kind_examples(registry.get(name)))
    return out


@pytest.fixture(scope="module")
def solutions() -> list:
    return all_solutions()


def test_every_formula_converts_to_mathml(solutions):
    formulas = []
    for s in solutions:
        for step in s.steps:
            formulas += [display(m) for m in step.math]
        formulas += [display(answer_line(a, s.problem.digits)) for a in s.answer_list if not has_mapping(a.value)]
        formulas += [str(v) for _, v in s.problem.definition.given(s.problem) if not isinstance(v, Prose)]
    assert len(formulas) > 500
    for tex in formulas:
        out = to_mathml(tex, True)
        assert out.startswith("<math") and "\\" not in out, tex


@pytest.mark.parametrize("tex, wanted", [
    (r"\frac{1}{2}", "<mfrac>"), (r"\sqrt{2}", "<msqrt>"), (r"\begin{bmatrix}1 & 2 \\ 3 & 4\end{bmatrix}", "<mtable>"),
    (r"\begin{aligned}a &= b \\ &= c\end{aligned}", 'class="aligned"'), (r"\operatorname{relu}(z)", "<mi>relu</mi>"),
    (r"\text{params} = 3", "<mtext>params</mtext>"), (r"\mathbf{W}", "𝐖"), (r"x \approx 0.5", "≈"),
    (r"a \cdot b", "·"), (r"\cdots \vdots \ddots", "⋯"), (r"\left( x \right)", 'fence="true"'),
    (r"120{,}422{,}400", "<mn>120,422,400</mn>"), (r"1.5 \times 10^{-3}", "<msup><mn>10</mn>"),
    (r"[-1, 1]", '<mo form="prefix">−</mo>'),
])
def test_constructs(tex, wanted):
    assert wanted in to_mathml(tex)


def test_text_in_math_is_escaped_and_output_whitelisted():
    out = to_mathml(r"\text{</math><script>y()</script> & 10\%}")
    assert "<script" not in out and "&lt;/math&gt;&lt;script&gt;" in out and "&amp;" in out
    with pytest.raises(MathMLError):
        checked('<math xmlns="http://www.w3.org/1998/Math/MathML"><script>x()</script></math>')
    with pytest.raises(MathMLError):
        checked('<math xmlns="http://www.w3.org/1998/Math/MathML"><mi onclick="x()">a</mi></math>')


def test_every_figure_is_redrawn(solutions):
    figures = [str(step.figure) for s in solutions for step in s.steps if step.figure]
    assert len(figures) >= 10
    for fig in figures:
        html = figure_html(fig, inline_math)
        assert NOTE not in html and ("<svg" in html or "<table" in html), fig[:200]
        assert "\\" not in re.sub(r"<[^>]+>", "", html)


def test_an_unknown_figure_becomes_a_note():
    assert NOTE in figure_html(r"\begin{tikzpicture}\shade (0,0) circle (1);\end{tikzpicture}", inline_math)
    assert NOTE in figure_html(r"\includegraphics{x.png}", inline_math)


# ---- the files ------------------------------------------------------------------------------------------------

@pytest.fixture
def export(cli, tmp_path):
    """`export(spec, fmt, *flags)` → the output folder (asserting exit 0)."""
    def run(spec: Path, fmt: str, *flags: str, out: str = "out") -> Path:
        result = cli("export", spec, "--format", fmt, "-o", tmp_path / out, *flags)
        assert result.code == 0, result.err
        return tmp_path / out
    return run


@pytest.fixture(scope="module")
def worksheet_json(tmp_path_factory) -> dict:
    from tests.conftest import run_cli
    out = tmp_path_factory.mktemp("json")
    assert run_cli("build", WORKSHEET, "--no-pdf", "-o", out).code == 0
    return json.loads((out / "worksheet.json").read_text())


def json_numbers(entry: dict) -> list:
    """The numbers of one problem's JSON answers in answer order, row-major, names and nulls skipped."""
    def walk(v):
        if isinstance(v, dict):
            return [x for k, w in v.items() if not isinstance(w, str) for x in walk(w)]
        if isinstance(v, list):
            return [x for w in v for x in walk(w)]
        return [] if v is None else [v]
    return [x for a in entry["answers"].values() for x in walk(a["value"])]


def test_html_is_self_contained_and_deterministic(export, tmp_path):
    first = (export(WORKSHEET, "html") / "worksheet.html").read_bytes()
    again = (export(WORKSHEET, "html", out="again") / "worksheet.html").read_bytes()
    assert first == again
    page = first.decode()
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/1998/Math/MathML", "http://www.w3.org/2000/svg",
                    "http://www.w3.org/1999/xhtml"}
    assert not re.search(r"<(script|link|img|iframe|object)\b", page)
    assert "default-src 'none'" in page
    assert "\\frac" not in re.sub(r"<[^>]+>", "", page) and NOTE not in page


def test_moodle_cloze_blanks_equal_the_json(export, worksheet_json):
    quiz = ET.parse(export(WORKSHEET, "moodle") / "worksheet.moodle.xml").getroot()
    assert quiz.tag == "quiz"
    questions = quiz.findall("question")
    cats = [q.find("category/text").text for q in questions if q.get("type") == "category"]
    assert cats == [f"$course$/worksheet/{p['id']}" for p in worksheet_json["problems"]]
    real = [q for q in questions if q.get("type") != "category"]
    assert len(real) == len(worksheet_json["problems"])
    for q, entry in zip(real, worksheet_json["problems"]):
        numbers = json_numbers(entry)
        text = q.find("questiontext/text").text
        blanks = NUMERICAL.findall(text)
        assert q.get("type") == ("cloze" if numbers else "essay"), entry["id"]
        assert [json.loads(v) for v, _ in blanks] == numbers, entry["id"]
        if "mask" in entry["answers"] or "params" in entry["answers"] or "direct.params" in entry["answers"]:
            counted = len(json_numbers({"answers": {"m": entry["answers"].get("mask", {"value": []})}}))
            assert all(t == "0" for _, t in (blanks[:counted] if counted else blanks)), entry["id"]


def test_a_large_given_matrix_is_lines_of_text_in_the_question(export):
    quiz = ET.parse(export(LAYOUT_WIDE, "moodle") / "forward_wide.moodle.xml").getroot()
    text = next(q for q in quiz.findall("question") if q.get("type") != "category").find("questiontext/text").text
    assert "row 0: [-1, 0.6, 0.3, -0.9" in text and "<br><code>row 1: [0.6, -0.2" in text
    assert "&#39;" not in text and "['" not in text and "<mi>′</mi>" not in text   # no Python list as math


def test_moodle_tolerances_follow_the_judging_rule(export, spec_file):
    quiz = ET.parse(export(spec_file(MODES), "moodle") / "spec.moodle.xml").getroot()
    blanks = {q.find("idnumber").text: [(float(v), float(t)) for v, t in NUMERICAL.findall(
        q.find("questiontext/text").text)] for q in quiz.findall("question") if q.get("type") == "cloze"}
    for v, t in blanks["d"]:
        assert t == pytest.approx(0.02 * v, rel=1e-12)
    assert all(t == pytest.approx(0.001) for _, t in blanks["a"])
    assert [t for _, t in blanks["s"]] == pytest.approx([0.0005, 0.0005, 0.00005])     # 0.659, 0.242, 0.0986
    assert all(t == pytest.approx(0.005) for _, t in blanks["m"])
    assert all(t == 0 for _, t in blanks["n"]) and [v for v, _ in blanks["n"]][-2:] == [26, 20]


def test_hostile_text_is_escaped_everywhere(export, spec_file):
    spec = spec_file(HOSTILE)
    page = (export(spec, "html") / "spec.html").read_text()
    assert "<script" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt;" in page and "&lt;/math&gt;" in page
    quiz = ET.parse(export(spec, "moodle") / "spec.moodle.xml").getroot()
    cloze = next(q for q in quiz.findall("question") if q.get("type") == "cloze")
    text = cloze.find("questiontext/text").text
    assert len(NUMERICAL.findall(text)) == 3 and "&#123;1:NUMERICAL:=5:0&#125;" in text and "<script" not in text
    with zipfile.ZipFile(export(spec, "qti") / "spec.qti.zip") as z:
        body = "".join(z.read(n).decode() for n in z.namelist())
    assert "<script" not in body


def qti_items(archive: zipfile.ZipFile) -> list[tuple[ET.Element, list[ET.Element]]]:
    """Check the manifest and every assessment against Canvas's QTI 1.2 structure; (assessment, items)."""
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    ns = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
    out = []
    for res in manifest.iter(ns + "resource"):
        hrefs = [f.get("href") for f in res.findall(ns + "file")]
        assert all(h in archive.namelist() for h in hrefs)
        if res.get("type") != "imsqti_xmlv1p2":
            continue
        root = ET.fromstring(archive.read(hrefs[0]))
        assert root.tag == QTI + "questestinterop"
        test = root.find(QTI + "assessment")
        items = test.findall(f"{QTI}section/{QTI}item")
        for item in items:
            fields = {f.find(QTI + "fieldlabel").text: f.find(QTI + "fieldentry").text
                      for f in item.iter(QTI + "qtimetadatafield")}
            kind = fields["question_type"]
            assert kind in ("numerical_question", "essay_question")
            assert item.find(f"{QTI}presentation/{QTI}material/{QTI}mattext").get("texttype") == "text/html"
            fib = item.find(f"{QTI}presentation/{QTI}response_str/{QTI}render_fib")
            cond = item.find(f"{QTI}resprocessing/{QTI}respcondition")
            assert item.find(f"{QTI}resprocessing/{QTI}outcomes/{QTI}decvar").get("varname") == "SCORE"
            if kind == "numerical_question":
                assert fib.get("fibtype") == "Decimal"
                assert cond.find(QTI + "setvar").text == "100"
        out.append((test, items))
    return out


def numeric_answer(item: ET.Element) -> tuple[float, float | None, float | None]:
    """(exact, low, high) of a numerical item; low and high None when exact only."""
    cond = item.find(f"{QTI}resprocessing/{QTI}respcondition/{QTI}conditionvar")
    exact = json.loads(next(cond.iter(QTI + "varequal")).text)
    low, high = cond.find(f".//{QTI}vargte"), cond.find(f".//{QTI}varlte")
    return exact, None if low is None else float(low.text), None if high is None else float(high.text)


def test_qti_items_equal_the_moodle_blanks(export, worksheet_json):
    out = export(WORKSHEET, "qti")
    with zipfile.ZipFile(out / "worksheet.qti.zip") as z:
        [(test, items)] = qti_items(z)
    quiz = ET.parse(export(WORKSHEET, "moodle") / "worksheet.moodle.xml").getroot()
    blanks = [(json.loads(v), float(t)) for q in quiz.findall("question") if q.get("type") == "cloze"
              for v, t in NUMERICAL.findall(q.find("questiontext/text").text)]
    numeric = [i for i in items if "numerical_question" in ET.tostring(i, encoding="unicode")]
    assert len(numeric) == len(blanks) == sum(len(json_numbers(p)) for p in worksheet_json["problems"])
    essays = len(items) - len(numeric)
    assert essays == sum(1 for p in worksheet_json["problems"] if not json_numbers(p))
    for item, (value, tol) in zip(numeric, blanks):
        exact, low, high = numeric_answer(item)
        assert exact == value
        if tol:
            assert low == pytest.approx(value - tol, rel=1e-12, abs=1e-300)
            assert high == pytest.approx(value + tol, rel=1e-12, abs=1e-300)
        else:
            assert low is None and high is None
    again = export(WORKSHEET, "qti", out="again") / "worksheet.qti.zip"
    assert again.read_bytes() == (out / "worksheet.qti.zip").read_bytes()


# ---- variants -------------------------------------------------------------------------------------------------

def test_variants_in_every_format(export, spec_file, tmp_path):
    pytest.importorskip("derive.variants.ids")
    spec = spec_file(DRAWS)
    quiz = ET.parse(export(spec, "moodle", "--count", "3") / "spec.moodle.xml").getroot()
    cats, current = {}, None
    for q in quiz.findall("question"):
        if q.get("type") == "category":
            current = q.find("category/text").text
            cats[current] = []
        else:
            cats[current].append(q.find("name/text").text)
    assert list(cats) == ["$course$/spec/p1", "$course$/spec/p2"]
    assert [n.rsplit("(", 1)[1] for n in cats["$course$/spec/p1"]] == ["v001)", "v002)", "v003)"]
    html = export(spec, "html", "--count", "2", out="h")
    assert sorted(p.name for p in html.iterdir()) == ["spec-v001.html", "spec-v002.html"]
    assert "v002" in (html / "spec-v002.html").read_text()
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nann,Ann Lee\nbo,Bo <Chen>\n", encoding="utf-8")
    with zipfile.ZipFile(export(spec, "qti", "--roster", roster, "--seed", "5", out="q") / "spec.qti.zip") as z:
        tests = qti_items(z)
    assert [t.get("title") for t, _ in tests] == ["Drawn \u2014 ann (Ann Lee)", "Drawn \u2014 bo (Bo <Chen>)"]
    once = (export(spec, "moodle", "--count", "3", "--seed", "5", out="m1") / "spec.moodle.xml").read_bytes()
    twice = (export(spec, "moodle", "--count", "3", "--seed", "5", out="m2") / "spec.moodle.xml").read_bytes()
    assert once == twice


def test_bad_spec_or_roster_writes_nothing(cli, spec_file, tmp_path):
    bad = spec_file("title: x\nproblems:\n  - {id: q, kind: softmax, logits: [1, yes]}\n", "bad.yaml")
    result = cli("export", bad, "--format", "html", "-o", tmp_path / "out")
    assert result.code == 2 and "bad.yaml" in result.err and not (tmp_path / "out").exists()
    pytest.importorskip("derive.variants.ids")
    roster = tmp_path / "r.csv"
    roster.write_text("name\nAnn\n", encoding="utf-8")
    result = cli("export", spec_file(DRAWS), "--format", "moodle", "--roster", roster, "-o", tmp_path / "out")
    assert result.code == 2 and not (tmp_path / "out").exists()


# ---- in Chromium ----------------------------------------------------------------------------------------------

class Recorder:
    """A local TCP listener given to Chromium as its proxy: every request Chromium tries lands here, none leaves."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.requests.append(conn.recv(300).decode("latin-1").split("\r\n")[0])
                except OSError as exc:
                    self.requests.append(f"(unread: {exc})")

    def page_requests(self) -> list[str]:
        """Requests other than Chromium's own services (updates, time, accounts): the page's, if any."""
        return [r for r in self.requests if not re.search(r"google(apis)?\.com|gvt1\.com|gstatic\.com", r)]


def chromium(page: Path, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, Recorder]:
    recorder = Recorder()
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", f"--proxy-server=http://127.0.0.1:{recorder.port}",
           *args, page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, timeout=120)
    recorder.sock.close()
    assert done.returncode == 0, done.stderr[-2000:]
    return done, recorder


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@needs_chromium
@pytest.mark.parametrize("width", [390, 1280])
def test_chromium_screenshot(export, tmp_path, width):
    page = export(WORKSHEET, "html") / "worksheet.html"
    shot = tmp_path / f"shot-{width}.png"
    _, recorder = chromium(page, tmp_path, f"--window-size={width},2400", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert recorder.page_requests() == []


@needs_chromium
def test_chromium_dom_has_mathml_and_the_answers(export, tmp_path, worksheet_json):
    page = export(WORKSHEET, "html") / "worksheet.html"
    done, recorder = chromium(page, tmp_path, "--dump-dom")
    dom = done.stdout.decode()
    assert dom.count("<math") > 200 and "<svg" in dom and "<table" in dom
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|annotation)[^>]*>.*?</\1>", "", dom, flags=re.S))
    assert "\\frac" not in visible and "\\begin" not in visible and "$" not in visible
    for known in ("0.6590", "0.2424", "0.09857", "43,352,064", "6,021,120", "1.414", "11.21"):
        assert known in visible, known
    assert recorder.page_requests() == []
    assert not re.findall(r"(?:src|href)=\"https?:", dom)


@needs_chromium
def test_chromium_shows_a_hostile_statement_literally(export, spec_file, tmp_path):
    page = export(spec_file(HOSTILE), "html") / "spec.html"
    done, _ = chromium(page, tmp_path, "--dump-dom")
    dom = done.stdout.decode()
    assert "<script" not in dom and "<img" not in dom
    assert '&lt;script&gt;alert("s")&lt;/script&gt;' in dom and "&lt;/math&gt;" in dom and " &amp; " in dom
    assert "&lt;/math&gt;&lt;script&gt;y()&lt;/script&gt;" in dom     # inside \text{…} of a formula
