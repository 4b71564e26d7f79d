"""The data folder's lock: one live process at a time writes a data folder.

``algowatch serve``, ``algowatch demo``, ``algowatch replay --journal`` and
:class:`~algowatch.server.InProcessMonitor` hold an advisory lock
(``fcntl.flock``) on ``<folder>/algowatch.lock`` while they use the folder. The
kernel drops the lock when the process ends, however it ends (``kill -9``
included), so a lock is never stale. The file records the holder's pid and command,
for the message the next process gets. Within one process the lock is shared: the
CLI takes it before starting the service, which takes it again.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
from pathlib import Path

from algowatch.errors import DataFolderInUseError

__all__ = ["LOCK_FILE", "DataFolderInUseError", "DataLock", "lock_data_folder"]

LOCK_FILE = "algowatch.lock"


# this process's locks, by resolved folder; the lock guards the table
_HELD: dict[Path, DataLock] = {}
_TABLE = threading.Lock()


class DataLock:
    """A process's hold on one data folder; :meth:`release` as many times as it was taken."""

    def __init__(self, folder: Path, fd: int | None) -> None:
        self.folder = folder
        self._fd = fd
        self._holders = 1

    def release(self) -> None:
        """Give up one hold; the last one unlocks the folder (a second call is harmless)."""
        with _TABLE:
            if self._holders == 0:
                return
            self._holders -= 1
            if self._holders:
                return
            _HELD.pop(self.folder, None)
            if self._fd is not None:
                os.close(self._fd)  # closing the file drops the flock
                self._fd = None

    def __enter__(self) -> DataLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _command() -> str:
    # "algowatch serve", "sdk_bot.py --in-process": the program and its first argument
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None:  # python -m algowatch
        program = spec.name.removesuffix(".__main__")
    else:
        program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([program, *sys.argv[1:2]])[:200]


def _holder(path: Path) -> tuple[str, str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    pid = lines[0].strip() if lines and lines[0].strip() else "?"
    command = lines[1].strip() if len(lines) > 1 and lines[1].strip() else "algowatch"
    return pid, command


def _shown(folder: Path) -> str:
    text = str(folder)
    return text if folder.is_absolute() or text.startswith(".") else f"./{text}"


def lock_data_folder(
    folder: Path, *, hint: str = "stop it or use another folder (--data-dir)"
) -> DataLock:
    """Lock ``folder`` (created if missing) for this process and return the hold.

    Raises
    ------
    DataFolderInUseError
        When another live process holds it; the message names the folder, the
        holder's pid and command, and ``hint``.
    """
    key = folder.resolve()
    with _TABLE:
        held = _HELD.get(key)
        if held is not None:
            held._holders += 1
            return held
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid, command = _holder(path)
            msg = f"data folder {_shown(folder)} is in use by pid {pid} ({command}); {hint}"
            raise DataFolderInUseError(msg) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n{_command()}\n".encode())
        lock = _HELD[key] = DataLock(key, fd)
        return lock
