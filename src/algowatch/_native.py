"""The compiled engine: which modules mypyc compiles, and whether the compiled build is used.

The engine's hot path (:mod:`algowatch.monitor` and timestamp parsing) is plain,
fully typed Python that the build compiles with mypyc into C extensions sitting
next to the sources. The compiled build and the sources behave the same; the
compiled one applies events about 2.5x faster. This module decides at import time
which one runs:

- ``compiled``: every module below has an extension whose recorded source hash
  (``_native.json``, written by the build) matches the ``.py`` beside it;
- ``pure``: no extension was built (no C compiler, or ``ALGOWATCH_PURE_PYTHON=1``
  at build time);
- ``forced-pure``: ``ALGOWATCH_PURE_PYTHON=1`` at run time;
- ``stale``: a source changed after the build (a developer edited it). The sources
  are used, so the code that runs is always the code on disk, and a warning on
  stderr says how to rebuild (``uv sync``, or ``python hatch_build.py``).

In every case but ``compiled`` a meta-path finder makes the modules below load
from their ``.py`` files. The modules share one compiled library, so the choice is
all or nothing.

This file is also read by ``hatch_build.py`` (by path, before algowatch is
installed): it imports only the standard library.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Final

__all__ = ["MODULES", "STATUS", "flag_set", "install", "source_digests"]

#: The compiled modules, in no particular order (mypyc compiles them as one group).
MODULES: Final = (
    "algowatch._wire",
    "algowatch._formulas",
    "algowatch.monitor._histogram",
    "algowatch.monitor._ledger",
    "algowatch.monitor._orders",
    "algowatch.monitor._signals",
    "algowatch.monitor._figures",
    "algowatch.monitor._scope",
    "algowatch.monitor._bounded",
    "algowatch.monitor._curve",
    "algowatch.monitor._impact",
    "algowatch.monitor._state",
    "algowatch.monitor._engine",
)
#: The build's record of the sources it compiled, next to this file.
MANIFEST: Final = "_native.json"
#: Set to 1 to run (or build) the pure-Python engine.
PURE_ENV: Final = "ALGOWATCH_PURE_PYTHON"

_PACKAGE_DIR: Final = Path(__file__).resolve().parent

#: What :func:`install` decided: ``compiled``, ``pure``, ``forced-pure`` or ``stale``.
STATUS = "unknown"
#: Why :data:`STATUS` is what it is (shown by ``algowatch --version``).
REASON = ""


def _source(module: str, package_dir: Path) -> Path:
    parts = module.split(".")[1:]
    return package_dir.joinpath(*parts).with_suffix(".py")


def source_digests(package_dir: Path = _PACKAGE_DIR) -> dict[str, str]:
    """Return the SHA-256 of each compiled module's source, keyed by module name."""
    return {
        module: hashlib.sha256(_source(module, package_dir).read_bytes()).hexdigest()
        for module in MODULES
    }


def _has_extension(module: str, package_dir: Path) -> bool:
    source = _source(module, package_dir)
    stem = source.with_suffix("")
    return any(
        stem.with_name(stem.name + suffix).exists()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


def flag_set(name: str) -> bool:
    """Return whether the environment variable ``name`` is set to anything but ``""`` or ``0``."""
    return os.environ.get(name, "") not in {"", "0"}


def _decide(package_dir: Path) -> tuple[str, str]:
    # -> (status, why); only "compiled" lets the extensions load
    if flag_set(PURE_ENV):
        return "forced-pure", f"{PURE_ENV} is set"
    present = [m for m in MODULES if _has_extension(m, package_dir)]
    if not present:
        return "pure", "no compiled extension was built"
    if len(present) != len(MODULES):
        missing = sorted(set(MODULES) - set(present))
        return "stale", f"compiled extensions are missing for {', '.join(missing)}"
    try:
        recorded = json.loads((package_dir / MANIFEST).read_text())["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        return "stale", f"the build record {MANIFEST} is missing or unreadable"
    changed = [m for m, digest in source_digests(package_dir).items() if recorded.get(m) != digest]
    if changed:
        return "stale", f"sources changed since the build: {', '.join(changed)}"
    return "compiled", "every compiled extension matches its source"


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Load the compiled modules from their ``.py`` sources."""

    def __init__(self, package_dir: Path) -> None:
        self._files = {m: _source(m, package_dir) for m in MODULES}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        source = self._files.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def install() -> str:
    """Decide compiled or pure (once) and return :data:`STATUS`."""
    global STATUS, REASON
    if STATUS != "unknown":
        return STATUS
    STATUS, REASON = _decide(_PACKAGE_DIR)
    if STATUS != "compiled":
        sys.meta_path.insert(0, _SourceFinder(_PACKAGE_DIR))
    if STATUS == "stale":
        sys.stderr.write(
            f"algowatch: running the pure-Python engine because {REASON}; "
            "rebuild the compiled one with `uv sync` (or `python hatch_build.py`)\n"
        )
    return STATUS
