"""The TeX runner: hostile file names, destinations, killed builds, stale staging folders, reproducible PDFs."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive import pdf as pdfmod
from derive import staging
from derive.errors import BuildError
from derive.jinjaenv import fixed_preamble
from derive.prose import MATH_COMMANDS

ROOT = Path(__file__).resolve().parents[1]
HAVE_TEX = pdfmod.shutil.which("pdflatex") is not None
needs_tex = pytest.mark.skipif(not HAVE_TEX, reason="TeX Live is not installed")
HOSTILE = ["y`cd ..;touch PWNED`", "a$b", "p%q", "b\\s", "t~x", 'q"u', "c^^5c", "n\nl"]
SPEC = """title: Hostile names
problems:
  - id: q1
    kind: softmax
    statement: Pick $\\argmax_x f$ over $\\argmin_{x} g$.
    logits: [2.0, 1.0, 0.1]
"""


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path below `folder` with its bytes (None for a folder)."""
    return {str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def pdf_text(path: Path) -> str:
    """pdftotext of a PDF."""
    return subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout


def tex_children(pid: int) -> list[int]:
    """Processes whose parent is `pid` and whose name is pdflatex."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
            if name == "pdflatex" and int(rest[1]) == pid:
                found.append(int(entry.name))
    return found


def group_alive(pgid: int) -> bool:
    """Some process of group `pgid` is still running (zombies count as gone)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                rest = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(rest[2]) == pgid and rest[0] not in "ZX":
                return True
    return False


def group_ends(pgid: int, seconds: float = 10) -> bool:
    """Group `pgid` is gone within `seconds` (a SIGKILLed process may take a moment to exit)."""
    deadline = time.monotonic() + seconds
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def start_build(tmp_path: Path, *args: str) -> subprocess.Popen:
    """`derive build ARGS` as a separate process in tmp_path."""
    return subprocess.Popen([sys.executable, "-m", "derive.cli", "build", *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_tex(proc: subprocess.Popen, seconds: float = 90) -> int:
    """The pid of the first pdflatex the build starts."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        children = tex_children(proc.pid)
        if children:
            return children[0]
        time.sleep(0.01)
    raise AssertionError(f"no pdflatex seen: {proc.communicate()}")


# ---- file names never reach a shell or TeX ------------------------------------------------------------------

@needs_tex
def test_hostile_spec_names_build(cli, tmp_path, monkeypatch):
    work = tmp_path / "w"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in HOSTILE:
        (work / f"{name}.yaml").write_text(SPEC, encoding="utf-8")
    result = cli("build", *[f"{name}.yaml" for name in HOSTILE], "-o", "out")
    assert result.code == 0, result.err
    assert not list(tmp_path.rglob("PWNED"))
    for name in HOSTILE:
        assert "arg max" in pdf_text(work / "out" / f"{name}.pdf")
    assert sorted(p.name for p in (work / "out").iterdir()) == sorted(f"{n}.{e}" for n in HOSTILE
                                                                        for e in ("tex", "json", "pdf"))


@needs_tex
def test_hostile_answers_names_marked_copy(cli, tmp_path, monkeypatch):
    work = tmp_path / "w"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "spec.yaml").write_text(SPEC, encoding="utf-8")
    for name in HOSTILE:
        (work / f"{name}.yaml").write_text("q1:\n  probabilities: [0.66, 0.24, 0.099]\n", encoding="utf-8")
        result = cli("check", "spec.yaml", f"{name}.yaml", "--pdf", "-o", "out")
        assert result.code == 0, result.err
        assert (work / "out" / f"{name}-marked.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.rglob("PWNED"))
    assert len(list((work / "out").iterdir())) == 2 * len(HOSTILE)


def test_tex_never_sees_the_users_name(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(pdfmod, "command", lambda name: ["true", name])
    monkeypatch.setattr(pdfmod, "start", lambda argv, folder: seen.append((argv, folder)) or subprocess.Popen(["true"]))
    source = tmp_path / "y`touch PWNED`.tex"
    source.write_text("x")
    with pytest.raises(BuildError, match="TeX failed on y`touch PWNED`.tex"):
        pdfmod.compile_pdf(source)
    (argv, folder), = seen
    assert argv == ["true", "doc.tex"] and folder.parent == tmp_path and folder.name.startswith("tex-")


def test_command_is_a_safe_argument_list():
    if not HAVE_TEX:
        pytest.skip("TeX Live is not installed")
    argv = pdfmod.command("doc.tex")
    assert Path(argv[0]).name == "pdflatex" and argv[-1] == "doc.tex"
    assert {"-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"} <= set(argv)
    env = pdfmod.tex_env()
    assert (env["openin_any"], env["openout_any"], env["shell_escape"]) == ("p", "p", "f")


# ---- destinations are checked before anything moves ---------------------------------------------------------

def test_directory_at_destination_changes_nothing(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(SPEC, encoding="utf-8")
    out = Path("out")
    (out / "spec.json").mkdir(parents=True)
    (out / "spec.json" / "inside").write_text("x")
    (out / "spec.tex").write_text("old tex")
    (out / "spec.pdf").write_bytes(b"old pdf")
    before = snapshot(out)
    for flags in ([], ["--no-pdf"]):
        result = cli("build", "spec.yaml", "-o", "out", *flags)
        assert result.code == 1
        assert result.err == "spec.yaml: build failed: cannot write out/spec.json: it is a directory\n"
        assert snapshot(out) == before


def test_publish_undoes_a_move_that_fails(tmp_path, monkeypatch):
    out, work = tmp_path / "out", tmp_path / "out" / ".x-abcdefgh"
    work.mkdir(parents=True)
    (out / "a").write_text("old a")
    for name in ("a", "b"):
        (work / name).write_text(f"new {name}")
    real = os.replace

    def replace(src, dest):
        if Path(src).name == "b" and Path(dest).parent == out:
            raise PermissionError(13, "Permission denied")
        real(src, dest)

    monkeypatch.setattr(staging.os, "replace", replace)
    with pytest.raises(BuildError, match="cannot write .*/b: Permission denied"):
        staging.publish(work, out, ["a", "b"])
    assert (out / "a").read_text() == "old a" and not (out / "b").exists()


# ---- killed builds clean up ---------------------------------------------------------------------------------

@needs_tex
def test_sigterm_during_tex_cleans_up(tmp_path):
    proc = start_build(tmp_path, "-o", "out")
    tex = wait_for_tex(proc)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert not (tmp_path / "out").exists()        # the build made DIR, and takes it away again with nothing in it
    assert group_ends(tex, 1)


@needs_tex
def test_sigkill_during_tex_ends_tex_and_next_build_sweeps(tmp_path):
    proc = start_build(tmp_path, "-o", "out")
    tex = wait_for_tex(proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert group_ends(tex)
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".worksheet-")]
    subprocess.run([sys.executable, "-m", "derive.cli", "build", "--no-pdf", "-o", "out"], cwd=tmp_path, check=True,
                   capture_output=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["worksheet.json", "worksheet.tex"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_tex_dies_with_a_killed_derive(tmp_path):
    script = ("import sys, time; from pathlib import Path; from derive import pdf; "
              "pdf.run_together([(['sleep', '60'], Path(sys.argv[1]))], time.monotonic() + 60)")
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
    deadline = time.monotonic() + 30
    while not (tmp_path / "tex.out").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    sleeper = next(int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and _parent(e) == proc.pid)
    proc.kill()
    proc.wait()
    assert group_ends(sleeper)               # `sleep 60` would outlive this without PR_SET_PDEATHSIG


def _parent(entry: Path) -> int | None:
    """The parent pid of /proc/PID, None when it has gone."""
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_stale_staging_folder_is_swept(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(SPEC, encoding="utf-8")
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    out = tmp_path / "out"
    folders = {".spec-dead1234": f"derive staging folder\npid {dead.pid}\nstart -\nhost {host}\n",
               ".spec-live1234": staging.owner_text(os.getpid()),
               ".spec-else1234": f"derive staging folder\npid {dead.pid}\nstart -\nhost not-{host}\n",
               ".spec-nomark12": None}
    for name, marker in folders.items():
        (out / name).mkdir(parents=True)
        (out / name / "spec.tex").write_text("half")
        if marker is not None:
            (out / name / staging.MARKER).write_text(marker)
    result = cli("build", "spec.yaml", "--no-pdf", "-o", "out")
    assert result.code == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == [".spec-else1234", ".spec-live1234", ".spec-nomark12",
                                                     "spec.json", "spec.tex"]


def test_timeout_kills_the_whole_group(tmp_path, monkeypatch):
    script = "import subprocess, time; subprocess.Popen(['sleep', '30']); time.sleep(30)"
    monkeypatch.setattr(pdfmod, "command", lambda name: [sys.executable, "-c", script])
    monkeypatch.setattr(pdfmod, "TIMEOUT", 1)
    started = []
    real = pdfmod.start
    monkeypatch.setattr(pdfmod, "start", lambda argv, folder: started.append(real(argv, folder)) or started[-1])
    (tmp_path / "doc.tex").write_text("x")
    with pytest.raises(BuildError, match="TeX ran longer than 1 s"):
        pdfmod.compile_pdf(tmp_path / "doc.tex")
    assert group_ends(started[0].pid)         # the grandchild `sleep 30` too


# ---- reproducible PDFs, dates on request ---------------------------------------------------------------------

@needs_tex
def test_worksheet_pdfs_are_byte_identical(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    for out in ("a", "b"):
        assert cli("build", "-o", tmp_path / out).code == 0
    first = (tmp_path / "a" / "worksheet.pdf").read_bytes()
    assert first == (tmp_path / "b" / "worksheet.pdf").read_bytes()
    info = subprocess.run(["pdfinfo", tmp_path / "a" / "worksheet.pdf"], capture_output=True, text=True).stdout
    assert "CreationDate" not in info


@needs_tex
def test_source_date_epoch_is_honoured(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    for out in ("a", "b"):
        assert cli("build", tmp_path / "spec.yaml", "-o", tmp_path / out).code == 0
    assert (tmp_path / "a" / "spec.pdf").read_bytes() == (tmp_path / "b" / "spec.pdf").read_bytes()
    info = subprocess.run(["pdfinfo", "-isodates", tmp_path / "a" / "spec.pdf"], capture_output=True,
                          text=True).stdout
    assert "2023-11-14T22:13:20" in info


# ---- every whitelisted math command is defined in both preambles --------------------------------------------

@needs_tex
def test_math_whitelist_defined_in_both_preambles(tmp_path):
    checks = "".join(rf"\ifdefined\{c}\else\errmessage{{undefined \string\{c}}}\fi" for c in sorted(MATH_COMMANDS))
    sources = []
    for template in ("preamble", "check"):
        text = (ROOT / "templates" / f"{template}.tex.j2").read_text()
        preamble = text[:text.index(r"\begin{document}")] if template == "check" else fixed_preamble()
        lines = [ln for ln in preamble.splitlines() if r"\VAR{" not in ln and r"\BLOCK{" not in ln]
        source = tmp_path / f"{template}.tex"
        source.write_text("\n".join(lines) + "\n\\begin{document}\n" + checks + "\n$\\argmax_x f$\n\\end{document}\n")
        sources.append(source)
    for pdf in pdfmod.compile_all(sources):
        assert "arg max" in pdf_text(pdf)


# ---- speed: one pass unless asked, a cached format of the preamble, documents in parallel ---------------------

def record_starts(monkeypatch) -> list[list[str]]:
    """Every TeX command started from now on."""
    seen: list[list[str]] = []
    real = pdfmod.start
    monkeypatch.setattr(pdfmod, "start", lambda argv, folder, **kw: seen.append(argv) or real(argv, folder, **kw))
    return seen


@needs_tex
def test_one_pass_unless_the_log_asks(tmp_path, monkeypatch):
    starts = record_starts(monkeypatch)
    body = {"plain": r"Hello.", "labels": r"\section{A}\label{a} See section \ref{a}."}
    for name, text in body.items():
        (tmp_path / f"{name}.tex").write_text(rf"\documentclass{{article}}\begin{{document}}{text}\end{{document}}")
    plain, labels = pdfmod.compile_all([tmp_path / "plain.tex", tmp_path / "labels.tex"])
    assert len(starts) == 3                      # both once, together; the one with a label once more
    assert "See section 1" in pdf_text(labels) and "Hello." in pdf_text(plain)


@needs_tex
def test_format_is_cached_safe_and_changes_nothing(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    batches = []
    real = pdfmod.run_together
    monkeypatch.setattr(pdfmod, "run_together",
                        lambda runs, deadline: batches.append(len(runs)) or real(runs, deadline))
    starts = record_starts(monkeypatch)
    assert cli("build", tmp_path / "spec.yaml", "--questions", "-o", tmp_path / "fmt").code == 0
    cache = tmp_path / "cache" / "derive"
    assert sorted(p.suffix for p in cache.iterdir()) == [".fmt", ".inputs"]    # one preamble, one format
    assert batches == [1]                        # the dump; key and question sheet then run live (derive.livetex)
    dump, *runs = starts
    assert len(runs) == 2
    assert "-ini" in dump and "&pdflatex" in dump
    for argv in starts:
        assert "-no-shell-escape" in argv and not any(a.startswith("-shell") for a in argv)
    assert all(a.startswith("-fmt=") for a in (argv[1] for argv in runs))
    monkeypatch.setattr(pdfmod.texformat, "cache_dir", lambda: None)
    assert cli("build", tmp_path / "spec.yaml", "--questions", "-o", tmp_path / "plain").code == 0
    assert not any(a.startswith("-fmt=") for argv in starts[3:] for a in argv)
    for name in ("spec.pdf", "spec-questions.pdf"):
        assert pdf_text(tmp_path / "fmt" / name) == pdf_text(tmp_path / "plain" / name)


@needs_tex
def test_format_rebuilt_when_tex_changes_and_dropped_when_broken(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    build = lambda: cli("build", tmp_path / "spec.yaml", "-o", tmp_path / "out")  # noqa: E731
    assert build().code == 0
    fmt, = (tmp_path / "cache" / "derive").glob("*.fmt")
    listing = fmt.with_suffix(".inputs")
    inputs = json.loads(listing.read_text())
    package = next(p for p in inputs if p.endswith(".sty"))
    inputs[package][1] -= 1                      # as if TeX Live had updated that package since the dump
    listing.write_text(json.dumps(inputs))
    starts = record_starts(monkeypatch)
    assert build().code == 0
    assert "-ini" in starts[0]                   # dumped again
    assert json.loads(listing.read_text())[package] == inputs[package][:1] + [inputs[package][1] + 1]
    fmt.write_bytes(b"not a format")             # a broken format: the document is run without it, and it is dropped
    starts.clear()
    assert build().code == 0
    assert [a.startswith("-fmt=") for a in (argv[1] for argv in starts)] == [True, False]
    assert fmt.with_suffix(".bad").exists()
    starts.clear()
    assert build().code == 0
    assert len(starts) == 1 and not starts[0][1].startswith("-fmt=")
    assert "arg max" in pdf_text(tmp_path / "out" / "spec.pdf")


def test_format_key_follows_the_preamble():
    engine = sys.executable
    assert pdfmod.texformat.key("a", engine) == pdfmod.texformat.key("a", engine) != pdfmod.texformat.key("b", engine)
