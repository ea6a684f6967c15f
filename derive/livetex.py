"""TeX started before the document is finished: pdflatex reads doc.tex from a pipe while derive is still solving,
so problem k is typeset while problem k+1 is derived; any further pass runs on the whole file (pdf.complete)."""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import pdf
from .errors import BuildError

STDIN = "/dev/stdin"      # doc.tex is a link to TeX's own standard input: the pipe derive writes into


@dataclass
class Feed:
    """One document on its way into a running pdflatex: what was sent, and the thread that writes it."""

    job: pdf.Job
    proc: subprocess.Popen
    pieces: queue.Queue = field(default_factory=queue.Queue)
    sent: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    def pump(self) -> None:
        """Write the queued pieces into TeX's input until the end mark (None), then close it."""
        stream = self.proc.stdin          # unbuffered: a write may take only part of what it is given
        try:
            while (piece := self.pieces.get()) is not None:
                data = memoryview(piece.encode("utf-8"))
                while data:
                    data = data[stream.write(data):]
        except BrokenPipeError:           # TeX stopped reading: it failed, and pdf.finish reports its log's error
            pass
        finally:
            stream.close()


class LiveTex:
    """pdflatex runs, one per document, each reading its document as derive sends it piece by piece."""

    def __init__(self, feeds: list[Feed], argv: list[str]) -> None:
        self.feeds, self.argv = feeds, argv

    def send(self, pieces: list[str]) -> None:
        """The next piece of each document (in the order of the sources)."""
        for feed, piece in zip(self.feeds, pieces):
            feed.sent.append(piece)
            feed.pieces.put(piece)

    def extend(self, texts: list[str]) -> bool:
        """Send what each text adds to what was sent; False (and TeX stopped) if a text does not continue it."""
        sent = ["".join(feed.sent) for feed in self.feeds]
        if any(not text.startswith(done) for text, done in zip(texts, sent)):
            self.abort()
            return False
        self.send([text[len(done):] for text, done in zip(texts, sent)])
        return True

    def finish(self, texts: list[str]) -> list[Path] | None:
        """Send the rest of each whole text, wait for TeX, run any further passes; the PDFs, each beside its
        source. None when a text does not continue what was sent (nothing typeset: compile it anew)."""
        if not self.extend(texts):
            return None
        for feed, text in zip(self.feeds, texts):
            feed.job.source_text = text
            feed.pieces.put(None)
        deadline = time.monotonic() + pdf.TIMEOUT     # for every TeX run from here on, as in compile_all
        try:
            self._wait(deadline)
        finally:
            self.abort()
        for feed in self.feeds:
            (feed.job.folder / f"{pdf.DOC}.tex").unlink()
            pdf.write_doc(feed.job)          # a further pass (or a run without the format) reads the whole file
        return pdf.complete([feed.job for feed in self.feeds], self.argv, deadline)

    def _wait(self, deadline: float) -> None:
        """Wait for every TeX run to end (the first pass)."""
        for feed in self.feeds:
            try:
                feed.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise BuildError(f"TeX ran longer than {pdf.TIMEOUT} s") from None
            feed.job.passes, feed.job.code = 1, feed.proc.returncode

    def abort(self) -> None:
        """Stop every TeX run still going and the threads feeding them."""
        for feed in self.feeds:
            pdf.end(feed.proc)
            feed.pieces.put(None)
        for feed in self.feeds:
            if feed.thread is not None:
                feed.thread.join()


def start(sources: list[Path], heads: list[str]) -> LiveTex | None:
    """Start pdflatex on each source-to-be (its text so far: `heads`) in a private folder beside it; None where
    TeX cannot be run this way (no pdflatex, no /dev/stdin, a folder that takes no links, TeX that does not
    start): the document is then typeset when it is whole, and any error is reported then, after the spec's."""
    if shutil.which("pdflatex") is None or not os.path.exists(STDIN):
        return None
    argv = pdf.command(f"{pdf.DOC}.tex")
    live = LiveTex([], argv)
    try:
        jobs = [pdf.Job(source, Path(tempfile.mkdtemp(prefix="tex-", dir=source.parent)), head)
                for source, head in zip(sources, heads)]
        pdf.choose_formats(jobs, argv[0])
        for job in jobs:
            os.symlink(STDIN, job.folder / f"{pdf.DOC}.tex")
            live.feeds.append(Feed(job, pdf.start(job.argv(argv), job.folder, stdin=subprocess.PIPE)))
    except (OSError, BuildError):     # not this way: compile_all typesets the whole file later, or says why not
        live.abort()
        return None
    except BaseException:
        live.abort()
        raise
    for feed in live.feeds:           # threads only once every process is started (no fork beside a thread)
        feed.sent.append(feed.job.source_text)
        feed.pieces.put(pdf.date_line() + feed.job.rest())
        feed.thread = threading.Thread(target=feed.pump, name=f"tex-{feed.job.source.name}", daemon=True)
        feed.thread.start()
    return live
