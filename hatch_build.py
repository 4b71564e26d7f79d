"""Compile the engine's hot modules with mypyc (hatchling build hook, and a script).

The modules listed in ``src/algowatch/_native.py`` are compiled into one C
extension group; their ``.py`` sources ship too and stay the reference.

- ``uv sync`` / ``pip install -e .`` (editable): the extensions are built next to
  the sources under ``src/`` (git ignores them), with ``src/algowatch/_native.json``
  recording the hash of each source compiled. ``[tool.uv] cache-keys`` makes
  ``uv sync`` rebuild when one of them changes; until then algowatch notices the
  change and runs the pure-Python sources (see ``algowatch._native``).
- ``uv build`` / ``pip wheel`` (standard wheel): the extensions go into a
  platform wheel.
- ``python hatch_build.py``: rebuild in place, as the editable install does.

No C compiler, or ``ALGOWATCH_PURE_PYTHON=1``: a pure-Python build with a warning
(``ALGOWATCH_REQUIRE_NATIVE=1`` turns a failed compile into a failed build).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent
REQUIRE_ENV = "ALGOWATCH_REQUIRE_NATIVE"
_EXTENSION_SUFFIXES = (".so", ".pyd")


def _native_module(root: Path) -> ModuleType:
    # algowatch._native by path: the package is not importable while it is being built
    spec = importlib.util.spec_from_file_location(
        "_algowatch_native_build", root / "src" / "algowatch" / "_native.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_NATIVE = _native_module(ROOT)
PURE_ENV: str = _NATIVE.PURE_ENV
_flag = _NATIVE.flag_set


def clean(root: Path = ROOT) -> None:
    """Remove compiled extensions and the build record from the source tree."""
    src = root / "src"
    for path in src.rglob("*"):
        if path.suffix in _EXTENSION_SUFFIXES and path.is_file():
            path.unlink()
    (src / "algowatch" / _NATIVE.MANIFEST).unlink(missing_ok=True)


def compile_native(root: Path, dest: Path, work: Path) -> list[Path]:
    """Compile the engine into ``work`` and copy the results under ``dest``.

    Return the written files relative to ``dest`` (the extensions and
    ``algowatch/_native.json``).
    """
    import mypy.version  # noqa: PLC0415 - build-time dependencies only
    from mypyc.build import mypycify  # noqa: PLC0415
    from setuptools import Distribution  # noqa: PLC0415

    native = _native_module(root)
    sources = [str(Path("src", *m.split(".")).with_suffix(".py")) for m in native.MODULES]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    cwd = Path.cwd()
    os.chdir(root)  # mypy reads [tool.mypy] from pyproject.toml here
    try:
        extensions = mypycify(
            ["--python-version", version, *sources],
            opt_level="3",
            debug_level="0",
            group_name="algowatch",
            target_dir=str(work / "c"),
        )
        dist = Distribution({"name": "algowatch", "ext_modules": extensions})
        build_ext: Any = dist.get_command_obj("build_ext")
        build_ext.build_lib = str(work / "lib")
        build_ext.build_temp = str(work / "temp")
        build_ext.ensure_finalized()
        build_ext.run()
    finally:
        os.chdir(cwd)
    written: list[Path] = []
    lib = work / "lib"
    for built in sorted(lib.rglob("*")):
        if built.suffix in _EXTENSION_SUFFIXES:
            relative = built.relative_to(lib)
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built, dest / relative)
            written.append(relative)
    record = {
        "sources": native.source_digests(root / "src" / "algowatch"),
        "compiler": f"mypyc {mypy.version.__version__}",
        "python": version,
    }
    manifest = Path("algowatch") / native.MANIFEST
    (dest / manifest).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    written.append(manifest)
    return written


def build_in_place(root: Path = ROOT) -> list[Path]:
    """Compile next to the sources (what an editable install does)."""
    clean(root)
    with tempfile.TemporaryDirectory(prefix="algowatch-native-") as work:
        return compile_native(root, root / "src", Path(work))


def _warn(message: str) -> None:
    sys.stderr.write(f"algowatch build: {message}\n")


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # running as a script outside a build environment
    BuildHookInterface = object  # type: ignore[assignment,misc]


class NativeBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    """Compile the engine for wheels and editable installs; fall back to pure Python."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile before hatchling collects the wheel's files."""
        self._work: str | None = None
        root = Path(self.root)
        if _flag(PURE_ENV):
            _warn(f"{PURE_ENV} is set: building the pure-Python engine")
            if version == "editable":
                clean(root)  # no compiled module from an earlier build shadows the sources
            return
        try:
            if version == "editable":
                build_in_place(root)  # cleans first
                return
            self._work = tempfile.mkdtemp(prefix="algowatch-native-")
            out = Path(self._work) / "out"
            for relative in compile_native(root, out, Path(self._work)):
                build_data["force_include"][str(out / relative)] = str(relative)
        except (Exception, SystemExit) as exc:  # mypyc exits on a type error
            if _flag(REQUIRE_ENV):
                raise
            _warn(f"compiling the engine failed ({exc!r}); building the pure-Python engine")
            if version == "editable":
                clean(root)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the temporary build directory."""
        if getattr(self, "_work", None):
            shutil.rmtree(self._work, ignore_errors=True)  # type: ignore[arg-type]


if __name__ == "__main__":
    if _flag(PURE_ENV):
        clean()
        _warn(f"{PURE_ENV} is set: removed the compiled engine")
    else:
        for path in build_in_place():
            print(f"built src/{path}")  # noqa: T201
