"""TeX started before the document is whole (derive.livetex): same PDF, errors located, nothing left behind."""
import shutil
import subprocess
from pathlib import Path

import pytest

import derive.build as buildmod
from derive import livetex
from derive import pdf as pdfmod
from derive.errors import BuildError
from derive.jinjaenv import fixed_preamble
from derive.latex import Latex
from derive.resources import resource

needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="TeX Live is not installed")
WORKSHEET = resource("problems/worksheet.yaml")
SPEC = """title: Two problems
problems:
  - id: a
    kind: softmax
    logits: [2.0, 1.0, 0.1]
  - id: b
    kind: softmax
    logits: [1, 1]
"""


def pdf_text(path: Path) -> str:
    """pdftotext of a PDF."""
    return subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout


@needs_tex
def test_the_streamed_pdf_is_the_pdf_of_the_written_tex(cli, tmp_path):
    assert cli("build", WORKSHEET, "--questions", "-o", tmp_path / "out").code == 0
    for stem in ("worksheet", "worksheet-questions"):
        again = tmp_path / "again" / f"{stem}.tex"
        again.parent.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "out" / f"{stem}.tex", again)
        whole, = pdfmod.compile_all([again])
        assert whole.read_bytes() == (tmp_path / "out" / f"{stem}.pdf").read_bytes()


@needs_tex
def test_tex_runs_before_the_spec_is_read_and_gets_each_problem_as_it_is_solved(cli, tmp_path, monkeypatch):
    events: list[str] = []
    real_start, real_send, real_load = livetex.start, livetex.LiveTex.send, __import__("derive.spec").spec.load
    monkeypatch.setattr(livetex, "start", lambda *a: events.append("tex") or real_start(*a))
    monkeypatch.setattr("derive.spec.load", lambda *a, **k: events.append("load") or real_load(*a, **k))
    monkeypatch.setattr(livetex.LiveTex, "send", lambda self, pieces: events.append(
        "a" if "section*{a}" in pieces[0] else "b" if "section*{b}" in pieces[0] else "-") or real_send(self, pieces))
    real_solve = buildmod.solve_all
    monkeypatch.setattr(buildmod, "solve_all", lambda sheet, limits, q, solved: real_solve(
        sheet, limits, q, lambda s: (solved(s), events.append(f"solved {s.problem.id}"))))
    (tmp_path / "spec.yaml").write_text(SPEC)
    assert cli("build", tmp_path / "spec.yaml", "-o", tmp_path / "out").code == 0
    assert events[:2] == ["tex", "load"]
    assert events[2:] == ["-", "a", "solved a", "b", "solved b", "-"]   # head, problems as solved, the end
    assert "Two problems" in pdf_text(tmp_path / "out" / "spec.pdf")


@needs_tex
def test_a_tex_error_in_a_streamed_problem_names_its_line(cli, tmp_path, monkeypatch):
    import derive.render as render
    real = render.problem_fragment
    monkeypatch.setattr(render, "problem_fragment", lambda s, q: Latex(
        real(s, q) + ("\\undefinedmacro\n" if s.problem.id == "b" and not q else "")))
    (tmp_path / "spec.yaml").write_text(SPEC)
    result = cli("build", tmp_path / "spec.yaml", "-o", tmp_path / "out")
    assert result.code == 1
    assert not (tmp_path / "out").exists()
    line = _written_tex(tmp_path).splitlines().index("\\undefinedmacro") + 1
    assert result.err.strip() == (f"{tmp_path / 'spec.yaml'}: build failed: TeX failed on spec.tex: "
                                  f"Undefined control sequence. (line {line} of the .tex)")


def _written_tex(tmp_path: Path) -> str:
    """The .tex the build wrote, built again without the PDF (with the same injected fragment)."""
    from derive.cli import main
    assert main(["build", str(tmp_path / "spec.yaml"), "--no-pdf", "-o", str(tmp_path / "plain")]) == 0
    return (tmp_path / "plain" / "spec.tex").read_text()


@needs_tex
def test_a_bad_spec_stops_tex_and_leaves_nothing(cli, tmp_path, monkeypatch):
    started = []
    real = pdfmod.start
    monkeypatch.setattr(pdfmod, "start", lambda argv, folder, **kw: started.append(real(argv, folder, **kw))
                        or started[-1])
    (tmp_path / "spec.yaml").write_text(SPEC.replace("logits: [1, 1]", "logits: [1, x]"))
    result = cli("build", tmp_path / "spec.yaml", "-o", tmp_path / "out")
    assert result.code == 2 and "b.logits" in result.err
    assert started and all(proc.poll() is not None for proc in started)
    assert not (tmp_path / "out").exists()


@needs_tex
def test_a_text_that_does_not_continue_what_was_sent_is_typeset_anew(tmp_path):
    source = tmp_path / "doc.tex"
    live = livetex.start([source], [fixed_preamble()])
    live.send(["\\begin{document}\nSent first.\n"])
    assert live.finish([fixed_preamble() + "\\begin{document}\nSomething else.\n\\end{document}\n"]) is None
    assert all(feed.proc.poll() is not None for feed in live.feeds)


@needs_tex
def test_a_streamed_document_gets_the_passes_its_log_asks_for(tmp_path):
    source = tmp_path / "doc.tex"
    head = "\\documentclass{article}\n"
    text = head + "\\begin{document}\n\\section{A}\\label{a} See section \\ref{a}.\n\\end{document}\n"
    live = livetex.start([source], [head])
    live.send([text[len(head):len(head) + 20]])
    source.write_text(text)
    pdf, = live.finish([text])
    assert "See section 1" in pdf_text(pdf)
    assert live.feeds[0].job.passes == 2


def test_without_tex_the_build_is_not_live(monkeypatch, tmp_path):
    monkeypatch.setattr(livetex.shutil, "which", lambda name: None)
    assert livetex.start([tmp_path / "doc.tex"], [fixed_preamble()]) is None


@needs_tex
def test_tex_that_runs_too_long_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(pdfmod, "TIMEOUT", 1)
    source = tmp_path / "doc.tex"
    head = "\\documentclass{article}\n"
    text = head + "\\begin{document}\n\\def\\loop{\\loop}\\loop\n\\end{document}\n"
    live = livetex.start([source], [head])
    with pytest.raises(BuildError, match="TeX ran longer than 1 s"):
        live.finish([text])
    assert all(feed.proc.poll() is not None for feed in live.feeds)


BAD = SPEC.replace("logits: [1, 1]", "logits: [1, x]")


@needs_tex
def test_a_folder_that_takes_no_links_builds_the_whole_file_at_the_end(cli, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(livetex.os, "symlink", refuse)
    (tmp_path / "spec.yaml").write_text(SPEC)
    assert cli("build", tmp_path / "spec.yaml", "-o", tmp_path / "out").code == 0
    assert "Two problems" in pdf_text(tmp_path / "out" / "spec.pdf")
    (tmp_path / "spec.yaml").write_text(BAD)
    result = cli("build", tmp_path / "spec.yaml", "-o", tmp_path / "out2")
    assert result.code == 2 and "b.logits" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out2").exists()


@needs_tex
def test_tex_that_cannot_start_early_leaves_the_spec_errors_first(cli, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise BuildError("cannot run pdflatex: Permission denied")
    monkeypatch.setattr(pdfmod, "start", broken)
    (tmp_path / "spec.yaml").write_text(BAD)
    result = cli("build", tmp_path / "spec.yaml", "-o", tmp_path / "out")
    assert result.code == 2 and "b.logits" in result.err


def test_a_failed_build_removes_every_folder_it_made(cli, tmp_path):
    (tmp_path / "spec.yaml").write_text(BAD)
    result = cli("build", tmp_path / "spec.yaml", "-o", tmp_path / "new" / "keys")
    assert result.code == 2 and "b.logits" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_a_dir_name_too_long_reports_the_spec_first(cli, tmp_path):
    (tmp_path / "spec.yaml").write_text(BAD)
    result = cli("build", tmp_path / "spec.yaml", "-o", tmp_path / ("d" * 300))
    assert result.code == 2 and "b.logits" in result.err
    (tmp_path / "spec.yaml").write_text(SPEC)
    result = cli("build", tmp_path / "spec.yaml", "-o", tmp_path / ("d" * 300))
    assert result.code == 1
    assert result.err.strip() == (f"{tmp_path / 'spec.yaml'}: build failed: cannot write to {tmp_path / ('d' * 300)}: "
                                  "File name too long")
