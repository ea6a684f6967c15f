"""`derive variants` (SPEC §10): ids from a count or a roster, the folder layout, index.csv, the joined PDFs, the
QR code and the name on every sheet, --only, byte-identical outputs however built, failures, a Dask cluster."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from derive.errors import SpecError
from derive.variants import runner
from derive.variants.build import Outcome
from derive.variants.ids import ids_from, parse_roster

HAVE_TEX = shutil.which("pdflatex") is not None and shutil.which("pdfunite") is not None
needs_tex = pytest.mark.skipif(not HAVE_TEX, reason="TeX Live or poppler-utils is not installed")
needs_zbar = pytest.mark.skipif(shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None,
                                reason="zbar-tools (zbarimg) or poppler-utils is not installed")

QUIZ = """
title: Drawn quiz — Solutions
seed: 4
problems:
  - id: q1
    kind: softmax
    statement: Turn the scores into probabilities.
    logits: {draw: uniform, low: -2, high: 2, decimals: 1, shape: 3}
  - id: q2
    kind: forward
    input: [1, -1]
    layers:
      - {units: 2, activation: relu, weights: random}
  - id: q3
    kind: batch_norm
    x: {draw: integer, low: 0, high: 9, shape: 4}
    gamma: 2
    beta: {draw: choice, from: [0, 1, -1]}
    eps: "1/100"
"""
FILES = ["quiz.tex", "quiz.json", "quiz-questions.tex"]


@pytest.fixture
def quiz(tmp_path: Path, monkeypatch) -> Path:
    """quiz.yaml in tmp_path, which is also the working folder."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "quiz.yaml"
    path.write_text(QUIZ.lstrip("\n"), encoding="utf-8")
    return path


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below `folder`, relative path → bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_bytes(textwrap.dedent(text).lstrip("\n").encode("utf-8"))
    return path


def test_count_gives_the_folder_layout_and_index(quiz, cli):
    result = cli("variants", quiz, "--count", "3", "--no-pdf", "-o", "out")
    assert result.code == 0, result.err
    base = Path("out/quiz-variants")
    assert sorted(p.name for p in base.iterdir()) == ["index.csv", "v001", "v002", "v003"]
    for vid in ("v001", "v002", "v003"):
        assert sorted(p.name for p in (base / vid).iterdir()) == sorted(FILES)
    rows = list(csv.reader(io.StringIO((base / "index.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["id", "name", "seed", "questions", "key"]
    assert rows[1:] == [[v, "", "4", f"{v}/quiz-questions.tex", f"{v}/quiz.tex"] for v in ("v001", "v002", "v003")]
    assert "100 % (3/3)" in result.err
    assert not [p for p in base.iterdir() if p.name.startswith(".")]


def test_variants_are_distinct_and_show_their_id(quiz, cli):
    assert cli("variants", quiz, "--count", "5", "--no-pdf", "-o", "out").code == 0
    answers = []
    for i in range(1, 6):
        folder = Path(f"out/quiz-variants/v00{i}")
        answers.append(json.loads((folder / "quiz.json").read_text())["problems"])
        for name in ("quiz.tex", "quiz-questions.tex"):
            tex = (folder / name).read_text(encoding="utf-8")
            assert rf"Variant \textbf{{v00{i}}}" in tex and r"\qrrow" in tex and "draw:" not in tex
    for problem in range(3):
        values = [json.dumps(a[problem]["answers"]) for a in answers]
        assert len(set(values)) == 5, f"problem {problem + 1} repeats across variants"


def test_same_bytes_alone_in_a_batch_and_with_one_or_two_workers(quiz, cli):
    for out, flags in [("w1", ["--workers", "1"]), ("w2", ["--workers", "2"]), ("alone", ["--only", "v003"])]:
        assert cli("variants", quiz, "--count", "4", "--no-pdf", "-o", out, *flags).code == 0, out
    one, two = tree(Path("w1")), tree(Path("w2"))
    assert one == two
    alone = tree(Path("alone"))
    assert sorted(alone) == [f"quiz-variants/v003/{f}" for f in sorted(FILES)]
    assert all(alone[k] == one[k] for k in alone)


def test_only_needs_a_known_id_and_writes_just_that_folder(quiz, cli):
    result = cli("variants", quiz, "--count", "3", "--only", "v004", "--no-pdf", "-o", "out")
    assert result.code == 2
    assert "--only: no variant 'v004' in the count" in result.err
    assert not Path("out").exists()


def test_seed_replaces_the_spec_seed_in_index_and_draws(quiz, cli):
    assert cli("variants", quiz, "--count", "2", "--no-pdf", "-o", "a").code == 0
    assert cli("variants", quiz, "--count", "2", "--no-pdf", "-o", "b", "--seed", "99").code == 0
    assert "v001,,99," in Path("b/quiz-variants/index.csv").read_text()
    a = Path("a/quiz-variants/v001/quiz.json").read_bytes()
    assert a != Path("b/quiz-variants/v001/quiz.json").read_bytes()


@pytest.mark.parametrize("text, message", [
    ("id,name\ns1,Ann\ns2,Bo\ns1,Cy\n", "roster.csv:4: id: duplicate id 's1' (first on line 2)"),
    ("id,name\ns1,Ann\ns 2,Bo\n", "roster.csv:3: id: id 's 2' must use only letters, digits, '_' and '-'"),
    ("student,name\ns1,Ann\n", "roster.csv:1: the header row has no 'id' column (found 'student', 'name')"),
    ("id,name\n,Ann\n", "roster.csv:2: id: missing id"),
    ("id\n", "roster.csv:1: the roster has a header but no students"),
])
def test_a_bad_roster_is_exit_2_with_nothing_written(quiz, cli, tmp_path, text, message):
    result = cli("variants", quiz, "--roster", roster(tmp_path, text), "--no-pdf", "-o", "out")
    assert result.code == 2
    assert message in result.err
    assert not Path("out").exists()


def test_a_bad_spec_is_exit_2_with_nothing_written(quiz, cli):
    quiz.write_text(QUIZ.replace("gamma: 2", "gama: 2"), encoding="utf-8")
    result = cli("variants", quiz, "--count", "2", "--no-pdf", "-o", "out")
    assert result.code == 2
    assert "q3.gama: unknown field for kind batch_norm (did you mean 'gamma'?)" in result.err
    assert not Path("out").exists()


def test_roster_reading():
    assert parse_roster("\ufeffName,ID,email\nAda Lovelace,s1,a@x\n\n,s_2,\n") == [("s1", "Ada Lovelace"),
                                                                                  ("s_2", "")]
    assert ids_from(count=2) == [("v001", ""), ("v002", "")]
    assert ids_from(count=1000)[-1] == ("v1000", "")
    with pytest.raises(SpecError):
        ids_from(count=0)


def test_redraw_exhaustion_fails_every_variant_without_batch_files(quiz, cli):
    quiz.write_text(QUIZ.lstrip("\n").replace("gamma: 2", "gamma: 2\n    eps: {draw: uniform, low: -2, high: -1}")
                    .replace('    eps: "1/100"\n', ""), encoding="utf-8")
    result = cli("variants", "quiz.yaml", "--count", "2", "--no-pdf", "-o", "out")
    assert result.code == 1
    assert "v001: failed: quiz.yaml:13: q3: still invalid after 100 redraws of its draws; the last: q3.eps" in result.err
    assert "2 of 2 variants failed: " in result.err
    assert not Path("out/quiz-variants/index.csv").exists()
    assert not [p for p in Path("out/quiz-variants").iterdir()]


def test_a_failed_variant_is_named_and_the_others_kept(quiz, cli, monkeypatch):
    real = runner.build_variant

    def flaky(job, text):
        return Outcome(job.vid, error="TeX failed on purpose") if job.vid == "v002" else real(job, text)
    monkeypatch.setattr(runner, "build_variant", flaky)
    result = cli("variants", quiz, "--count", "3", "--no-pdf", "--workers", "1", "-o", "out")
    assert result.code == 1
    assert "v002: failed: TeX failed on purpose" in result.err
    assert "1 of 3 variants failed: v002" in result.err
    assert sorted(p.name for p in Path("out/quiz-variants").iterdir()) == ["v001", "v003"]


def test_a_file_where_a_variant_folder_goes_is_refused_first(quiz, cli):
    Path("out/quiz-variants").mkdir(parents=True)
    Path("out/quiz-variants/v002").write_text("mine")
    result = cli("variants", quiz, "--count", "2", "--no-pdf", "-o", "out")
    assert result.code == 1
    assert "it is not a folder" in result.err
    assert sorted(p.name for p in Path("out/quiz-variants").iterdir()) == ["v002"]


def test_rebuilding_keeps_other_files_in_a_variant_folder(quiz, cli):
    assert cli("variants", quiz, "--count", "2", "--no-pdf", "-o", "out").code == 0
    Path("out/quiz-variants/v001/answers.yaml").write_text("q1: {}\n")
    before = tree(Path("out"))
    assert cli("variants", quiz, "--count", "2", "--no-pdf", "-o", "out", "--only", "v001").code == 0
    assert tree(Path("out")) == before


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-l", "1", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def qr_of(pdf: Path, tmp_path: Path) -> str:
    """The text of the QR code on the first page (rendered at 300 dpi, read by zbarimg)."""
    png = tmp_path / f"{pdf.stem}-page"
    subprocess.run(["pdftoppm", "-png", "-r", "300", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png)],
                   check=True)
    done = subprocess.run(["zbarimg", "--raw", "-q", f"{png}.png"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_tex
@needs_zbar
def test_pdfs_carry_the_name_and_a_qr_code_that_decodes_to_the_payload(quiz, cli, tmp_path):
    path = roster(tmp_path, "id,name\nada,Ada Lovelace\njn_2,José Núñez\n")
    result = cli("variants", quiz, "--roster", path, "--seed", "12", "-o", "out")
    assert result.code == 0, result.err
    base = Path("out/quiz-variants")
    assert sorted(p.name for p in base.iterdir()) == ["ada", "index.csv", "jn_2", "keys.pdf", "questions.pdf"]
    for vid, name in [("ada", "Ada Lovelace"), ("jn_2", "José Núñez")]:
        for pdf in ("quiz.pdf", "quiz-questions.pdf"):
            text = pdf_text(base / vid / pdf)
            assert f"Variant {vid}" in text and name in text
            assert qr_of(base / vid / pdf, tmp_path) == f"derive:quiz:{vid}:12"
    rows = (base / "index.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1:] == ["ada,Ada Lovelace,12,ada/quiz-questions.pdf,ada/quiz.pdf",
                        "jn_2,José Núñez,12,jn_2/quiz-questions.pdf,jn_2/quiz.pdf"]
    pages = [pages_of(base / v / "quiz-questions.pdf") for v in ("ada", "jn_2")]
    assert pages_of(base / "questions.pdf") == sum(pages)
    assert pdf_text(base / "questions.pdf").startswith(pdf_text(base / "ada" / "quiz-questions.pdf")[:200])


def pages_of(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@needs_tex
def test_pdfs_are_the_same_alone_and_in_a_batch(quiz, cli):
    assert cli("variants", quiz, "--count", "2", "-o", "a", "--workers", "2").code == 0
    assert cli("variants", quiz, "--count", "2", "-o", "b", "--workers", "1").code == 0
    assert cli("variants", quiz, "--count", "2", "-o", "c", "--only", "v002").code == 0
    a, b, c = tree(Path("a")), tree(Path("b")), tree(Path("c"))
    assert a == b
    assert all(c[k] == a[k] for k in c) and len(c) == 5


def test_the_scheduler_option_needs_a_reachable_dask(quiz, cli, monkeypatch):
    def refuse(address):
        from derive.errors import BuildError
        raise BuildError(f"cannot reach the Dask scheduler at {address}: refused")
    monkeypatch.setattr(runner, "connect", refuse)
    result = cli("variants", quiz, "--count", "2", "--no-pdf", "-o", "out", "--scheduler", "tcp://127.0.0.1:9")
    assert result.code == 1 and "cannot reach the Dask scheduler" in result.err
    assert not Path("out").exists()


def test_a_dask_cluster_on_this_machine_builds_the_same_bytes(quiz, cli):
    distributed = pytest.importorskip("distributed")
    assert cli("variants", quiz, "--count", "3", "--no-pdf", "-o", "local", "--workers", "1").code == 0
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                                       dashboard_address=None, worker_dashboard_address=None)
    try:
        result = cli("variants", quiz, "--count", "3", "--no-pdf", "-o", "dask", "--scheduler",
                     cluster.scheduler_address)
    finally:
        cluster.close()
    assert result.code == 0, result.err
    assert tree(Path("dask")) == tree(Path("local"))


@needs_tex
def test_joining_in_rounds_keeps_every_page_in_order_and_the_same_bytes(tmp_path, monkeypatch):
    from derive.pdf import compile_all
    from derive.variants import combine
    sources = []
    for i in range(5):
        tex = tmp_path / f"p{i}.tex"
        pages = r"\newpage ".join(f"page {i}.{k}" for k in range(i % 3 + 1))
        tex.write_text(r"\documentclass{article}\pagestyle{empty}\begin{document}" + pages + r"\end{document}" + "\n")
        sources.append(tex)
    pdfs = compile_all(sources)
    monkeypatch.setattr(combine, "CHUNK", 2)
    combine.concatenate(pdfs, tmp_path / "a.pdf")
    combine.concatenate(pdfs, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert pages_of(tmp_path / "a.pdf") == sum(pages_of(p) for p in pdfs) == 1 + 2 + 3 + 1 + 2
    text = subprocess.run(["pdftotext", str(tmp_path / "a.pdf"), "-"], capture_output=True, text=True).stdout
    words = [w for w in text.split() if w[0].isdigit()]
    assert words == ["0.0", "1.0", "1.1", "2.0", "2.1", "2.2", "3.0", "4.0", "4.1"]


def dies_on_v002(job, text):
    """A worker that dies (as one killed for memory would) on v002."""
    import os
    if job.vid == "v002":
        os._exit(3)
    from derive.variants.build import build_variant
    return build_variant(job, text)


def test_a_worker_that_dies_is_a_clear_failure(quiz, cli, monkeypatch):
    monkeypatch.setattr(runner, "build_variant", dies_on_v002)
    result = cli("variants", quiz, "--count", "3", "--no-pdf", "--workers", "2", "-o", "out")
    assert result.code == 1
    assert "derive variants: a worker process died" in result.err
    assert not Path("out/quiz-variants/index.csv").exists()
    assert not [p for p in Path("out/quiz-variants").iterdir() if p.name.startswith(".")]
