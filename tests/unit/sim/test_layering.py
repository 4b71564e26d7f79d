"""The simulator is a bot: nothing in ``algowatch.sim`` imports the engine or the service.

DESIGN.md: ``sim/`` talks to the service only through the SDK (and the HTTP API, for the
guard's level), like any bot. The demo's wiring of the service and the simulator lives in
the CLI (``algowatch._cli._demo_app``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import algowatch.sim

from ... import layering_kit as kit

PACKAGE = Path(algowatch.sim.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
FORBIDDEN = (
    "algowatch.monitor",
    "algowatch.server",
    "algowatch.risk",
    "algowatch.journal",
    "algowatch.health",
    "algowatch.exporters",
    "algowatch._cli",
    "fastapi",
    "starlette",
    "uvicorn",
    "prometheus_client",
)


def test_the_check_finds_a_lazy_import_of_the_engine() -> None:
    """A function-level ``from algowatch.monitor import Monitor`` is caught."""
    source = "def wire():\n    from algowatch.monitor import Monitor\n    return Monitor()\n"
    names = kit.imported_modules(source, "algowatch.sim.demo")
    assert kit.under(names, FORBIDDEN) == ["algowatch.monitor", "algowatch.monitor.Monitor"]


def test_the_sim_package_has_its_modules() -> None:
    """The walk sees the simulator's modules (so the next test is not vacuous)."""
    names = {path.name for path in MODULES}
    assert {"__init__.py", "simulation.py", "runner.py", "guard.py"} <= names
    assert "demo.py" not in names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_sim_module_imports_neither_the_engine_nor_the_service(path: Path) -> None:
    """No import statement in the module (top-level, lazy or TYPE_CHECKING) names them."""
    module = kit.module_name(path, PACKAGE, "algowatch.sim")
    names = kit.imported_modules(path.read_text(encoding="utf-8"), module)
    assert kit.under(names, FORBIDDEN) == []


def test_running_the_simulator_loads_neither_the_engine_nor_the_service() -> None:
    """In a fresh interpreter, simulate a crash and build the HTTP risk reader: none is loaded."""
    code = (
        "import algowatch.sim\n"
        "from algowatch.sim.guard import RiskLevelReader\n"
        "out = []\n"
        "sim = algowatch.sim.Simulation('drawdown', seed=1, start_ns=1_700_000_000 * 10**9,\n"
        "                               sink=out.append)\n"
        "sim.run_bars(120)\n"
        "assert out\n"
        "RiskLevelReader('http://127.0.0.1:9').close()\n"
    )
    assert kit.loaded_after(code, FORBIDDEN) == []
