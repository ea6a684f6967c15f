"""Where the variants are built: in this process (`--workers 1`), a pool of processes (one per core by default),
or a running Dask distributed cluster (`--scheduler`, through its concurrent.futures executor); and the
progress on stderr (a bar on a terminal, a line per 10 % otherwise)."""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Iterator, TextIO

from ..errors import BuildError
from .build import Job, Outcome, build_variant, warm


def default_workers() -> int:
    """The machine's CPUs (those this process may run on)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:        # not Linux
        return os.cpu_count() or 1


def outcomes(jobs: list[Job], text: str, workers: int, scheduler: str | None) -> Iterator[Outcome]:
    """Each job's outcome as it finishes (in order with one worker)."""
    if scheduler is None and (workers <= 1 or len(jobs) <= 1):
        for job in jobs:
            yield build_variant(job, text)
        return
    with executor(jobs, workers, scheduler, text) as (pool, shared):
        futures = [pool.submit(build_variant, job, shared) for job in jobs]
        try:
            for future in cf.as_completed(futures):
                yield result(future)
        finally:
            for future in futures:
                future.cancel()


def result(future: cf.Future) -> Outcome:
    """A finished job's outcome; a worker that died (killed, out of memory) is a BuildError."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise BuildError(f"a worker process died ({exc}); the variants placed so far are kept") from None
    except Exception as exc:
        if type(exc).__name__ != "KilledWorker":       # Dask's word for a task whose workers kept dying
            raise
        raise BuildError(f"the Dask cluster lost every worker that tried a variant ({exc})") from None


@contextmanager
def executor(jobs: list[Job], workers: int, scheduler: str | None, text: str) -> Iterator[tuple[cf.Executor, Any]]:
    """A concurrent.futures executor, and the spec's text as its workers receive it (sent once to a cluster)."""
    if scheduler is not None:
        with dask_executor(scheduler, text) as pair:
            yield pair
        return
    fork = sys.platform.startswith("linux")
    if fork:
        warm(jobs[0], text)                 # the forked workers start with what it filled
    context = multiprocessing.get_context("fork" if fork else None)
    pool = cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context)
    try:
        yield pool, text
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def connect(scheduler: str) -> Any:
    """A Dask distributed Client of the scheduler at ADDRESS; BuildError when Dask is missing or unreachable."""
    try:
        from distributed import Client
    except ImportError:
        raise BuildError("--scheduler needs Dask distributed: pip install 'derive[dask]'") from None
    try:
        return Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BuildError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


_CLIENTS: dict[str, Any] = {}       # the client `command` connected before anything was written


def preconnect(scheduler: str) -> None:
    """Connect now (a bad address is an error before anything is written); `dask_executor` uses it."""
    _CLIENTS[scheduler] = connect(scheduler)


def disconnect() -> None:
    """Close a client that `preconnect` made and no run used (the run stopped before it started)."""
    while _CLIENTS:
        _CLIENTS.popitem()[1].close()


@contextmanager
def dask_executor(scheduler: str, text: str) -> Iterator[tuple[cf.Executor, Any]]:
    """The cluster's executor (tasks with unique keys) and the spec's text scattered to every worker."""
    client = _CLIENTS.pop(scheduler, None) or connect(scheduler)
    try:
        shared = client.scatter(text, broadcast=True, hash=False)
        pool = client.get_executor(pure=False)
        try:
            yield pool, shared
        finally:
            pool.shutdown(wait=False)
    finally:
        client.close()


class Progress:
    """Variants done out of the total, on stderr: a tqdm bar on a terminal, else a line at each 10 %."""

    def __init__(self, total: int, stream: TextIO | None = None):
        self.total, self.done, self.shown = total, 0, 0
        self.stream = stream or sys.stderr
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm
            tqdm.monitor_interval = 0       # no monitor thread: worker processes are forked after this
            self.bar = tqdm(total=total, file=self.stream, unit="variant", desc="derive variants", leave=True)

    def step(self) -> None:
        """One more variant done (built or failed)."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            return
        tenth = self.done * 10 // self.total
        if tenth > self.shown:
            self.shown = tenth
            print(f"derive variants: {self.done * 100 // self.total} % ({self.done}/{self.total})", file=self.stream,
                  flush=True)

    def say(self, message: str) -> None:
        """A line on stderr that does not break the bar."""
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar."""
        if self.bar is not None:
            self.bar.close()
