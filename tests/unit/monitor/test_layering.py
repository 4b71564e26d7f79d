"""The engine depends only downward: no module of algowatch.monitor imports an edge."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import algowatch.monitor

PACKAGE = Path(algowatch.monitor.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
FORBIDDEN = ("algowatch.server", "fastapi", "starlette", "prometheus_client")


def _imported(source: str, module: str) -> set[str]:
    """Return every module an import statement anywhere in ``source`` names (also lazy ones)."""
    names: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def _forbidden(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))


def test_the_check_finds_a_lazy_import_of_the_server() -> None:
    """A function-level ``from algowatch.server._render import ...`` is caught, as is fastapi."""
    source = (
        "def snapshot(self):\n"
        "    from algowatch.server._render import render_snapshot\n"
        "    import fastapi.responses\n"
        "    return render_snapshot(self.figures())\n"
    )
    names = _imported(source, "algowatch.monitor._engine")
    assert _forbidden(names) == [
        "algowatch.server._render",
        "algowatch.server._render.render_snapshot",
        "fastapi.responses",
    ]
    assert _forbidden(_imported("from .. import server\n", "algowatch.monitor._engine")) == [
        "algowatch.server"
    ]


def test_the_engine_package_has_its_modules() -> None:
    """The walk sees the engine's modules (so the next test is not vacuous)."""
    names = {path.relative_to(PACKAGE).as_posix() for path in MODULES}
    assert {"__init__.py", "_engine.py", "_figures.py", "_readout.py", "_ledger.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_engine_module_imports_no_server_web_or_prometheus_code(path: Path) -> None:
    """No import in the module (top-level, lazy or TYPE_CHECKING) names an edge package."""
    relative = path.relative_to(PACKAGE).with_suffix("")
    module = ".".join(("algowatch", "monitor", *relative.parts))
    if relative.name == "__init__":
        module = module.rsplit(".", 1)[0] + ".__init__"
    assert _forbidden(_imported(path.read_text(encoding="utf-8"), module)) == []


def test_reading_the_engine_loads_no_server_web_or_prometheus_module() -> None:
    """In a fresh interpreter, apply events and read every figure: no edge module is loaded."""
    code = (
        "import sys\n"
        "from algowatch.monitor import Monitor\n"
        "from algowatch.testing import EventFactory\n"
        "f = EventFactory()\n"
        "m = Monitor()\n"
        "m.apply_many([f.submitted('o1', 'X', 'buy', 2), f.filled('o1', 2, 10.0),\n"
        "              f.submitted('o2', 'X', 'sell', 2), f.filled('o2', 2, 11.0)])\n"
        "assert m.figures().portfolio.trading.trades == 1\n"
        "assert len(m.trade_figures()) == 1 and len(m.order_figures()) == 2\n"
        f"edges = {FORBIDDEN!r}\n"
        "loaded = [k for k in sys.modules if any(k == e or k.startswith(e + '.') for e in edges)]\n"
        "print(sorted(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
