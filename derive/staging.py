"""Staging folders inside DIR: made with an owner marker, swept when their owner died, published all or nothing."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import tempfile
import threading
from pathlib import Path

from .errors import BuildError

MARKER = ".derive-staging"          # every staging folder holds this file: who made it, so a later build may sweep it
NAME = re.compile(r"\..+-[A-Za-z0-9_]{8}", re.S)   # `.<stem>-XXXXXXXX`, as tempfile.mkdtemp names them


class Terminated(SystemExit):
    """The run was ended by SIGTERM or SIGHUP; raised so that `finally` blocks remove staging folders and TeX."""


def exit_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into `Terminated` (exit status 128 + signal) for the CLI run; main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)


def _terminate(signum: int, _frame: object) -> None:
    """The handler: ignore the same signal while cleaning up, then unwind."""
    signal.signal(signum, signal.SIG_IGN)
    raise Terminated(128 + signum)


def staging_folder(out: Path, stem: str) -> Path:
    """A fresh folder `.<stem>-XXXXXXXX` inside `out` (same file system, so finished files move atomically)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        sweep_stale(out)
        work = Path(tempfile.mkdtemp(prefix=f".{stem[:40]}-", dir=out))
    except OSError as exc:
        raise BuildError(f"cannot write to {out}: {exc.strerror}") from None
    try:
        (work / MARKER).write_text(owner_text(os.getpid()), encoding="utf-8")
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise BuildError(f"cannot write to {out}: {exc.strerror}") from None
    return work


def owner_text(pid: int) -> str:
    """The marker's text: pid, the process's start time (so a reused pid is told apart) and the host."""
    return f"derive staging folder\npid {pid}\nstart {start_time(pid)}\nhost {socket.gethostname()}\n"


def start_time(pid: int) -> str:
    """The kernel's start time of process `pid` (Linux /proc), or '-' where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[19]
    except (OSError, IndexError):
        return "-"


def owner_alive(marker: str) -> bool:
    """True unless the marker names a process on this host that is gone (or whose pid now belongs to another)."""
    fields = dict(line.split(" ", 1) for line in marker.splitlines()[1:] if " " in line)
    if fields.get("host") != socket.gethostname() or not fields.get("pid", "").isdigit():
        return True
    pid = int(fields["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass                      # the pid exists but belongs to another user
    started = start_time(pid)
    return fields.get("start", "-") in ("-", started) or started == "-"


def sweep_stale(out: Path) -> list[Path]:
    """Remove the staging folders in `out` that derive made (marker file) for a process no longer alive."""
    removed = []
    for entry in os.scandir(out):
        if not NAME.fullmatch(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        marker = Path(entry.path) / MARKER
        try:
            info = marker.lstat()
            text = marker.read_text(encoding="utf-8") if stat.S_ISREG(info.st_mode) else ""
        except (OSError, UnicodeDecodeError):
            continue              # not ours (no marker), or not readable: leave it alone
        if text.startswith("derive staging folder\n") and entry.stat(follow_symlinks=False).st_uid == os.getuid() \
                and not owner_alive(text):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def check_destinations(out: Path, names: list[str]) -> None:
    """Refuse before anything moves: a destination that is a folder, or a DIR that cannot be written."""
    out = Path(out)
    try:
        if not stat.S_ISDIR(out.stat().st_mode):
            raise BuildError(f"cannot write to {out}: not a directory")
    except FileNotFoundError:
        return                    # nothing there yet: staging_folder makes DIR, or says why it cannot
    except OSError as exc:
        raise BuildError(f"cannot write to {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise BuildError(f"cannot write to {out}: permission denied")
    for name in names:
        try:
            if stat.S_ISDIR((out / name).lstat().st_mode):
                raise BuildError(f"cannot write {out / name}: it is a directory")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BuildError(f"cannot write {out / name}: {exc.strerror}") from None


def publish(work: Path, out: Path, names: list[str]) -> list[Path]:
    """Move `work/NAME` to `out/NAME` for every name with os.replace, after checking every destination;
    should a move still fail, the ones already made are undone (old files restored from hard links)."""
    out = Path(out)
    check_destinations(out, names)
    backup = work / ".previous"
    backup.mkdir(exist_ok=True)
    done: list[tuple[str, str]] = []
    for name in names:
        try:
            old = _keep_old(out / name, backup / name)
            os.replace(work / name, out / name)
        except OSError as exc:
            _undo(done, out, backup)
            raise BuildError(f"cannot write {out / name}: {exc.strerror}") from None
        done.append((name, old))
    return [out / name for name in names]


def _keep_old(dest: Path, copy: Path) -> str:
    """Hard-link the file about to be replaced into the staging folder: 'absent', 'kept' or 'unsaved'."""
    if not os.path.lexists(dest):
        return "absent"
    try:
        os.link(dest, copy, follow_symlinks=False)
    except OSError:               # no hard links on this file system: that file cannot be put back
        return "unsaved"
    return "kept"


def _undo(done: list[tuple[str, str]], out: Path, backup: Path) -> None:
    """Put back what `publish` had already replaced: the old file where one was kept, nothing where none was."""
    for name, old in reversed(done):
        try:
            if old == "kept":
                os.replace(backup / name, out / name)
            elif old == "absent":
                os.unlink(out / name)
        except OSError as exc:
            raise BuildError(f"cannot restore {out / name}: {exc.strerror}") from None
