"""``--pdf``: print the report page to PDF with a headless Chromium, if one is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

from algowatch.errors import AlgowatchError, MissingDependencyError

__all__ = ["find_chromium", "print_pdf"]

_BROWSERS: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_TIMEOUT_SECONDS: Final = 120.0


def find_chromium() -> str | None:
    """Return the path of a Chromium (or Chrome) on ``PATH``, or ``None``."""
    for name in _BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    return None


def print_pdf(page: Path, pdf: Path, *, browser: str | None = None) -> None:
    """Print the HTML file ``page`` to ``pdf`` with headless Chromium (no network needed).

    Raises
    ------
    MissingDependencyError
        When no Chromium is installed (Debian: ``apt install chromium``).
    AlgowatchError
        When Chromium fails or writes no file.
    """
    executable = browser or find_chromium()
    if executable is None:
        msg = (
            "--pdf needs Chromium or Chrome on PATH (Debian: apt install chromium); "
            "the HTML report was written"
        )
        raise MissingDependencyError(msg)
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="algowatch-pdf-") as profile:
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf.resolve()}",
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
                command, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            msg = f"could not print {str(page)!r} to PDF with {executable}: {exc}"
            raise AlgowatchError(msg) from exc
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = done.stderr.decode(errors="replace")[-500:]
        msg = f"{executable} did not write {str(pdf)!r} (exit {done.returncode}): {tail!r}"
        raise AlgowatchError(msg)
