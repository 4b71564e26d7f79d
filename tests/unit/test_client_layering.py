"""The SDK depends on neither the server nor the engine (DESIGN.md: dependencies point downward).

``algowatch.client`` and its ``algowatch._client_*`` modules are what a bot imports to
send events; the service (``algowatch.server``) and the engine (``algowatch.monitor``)
are what it talks to over HTTP. ``InProcessMonitor``, which runs the service inside a
bot, lives in ``algowatch.server`` for that reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import algowatch

from .. import layering_kit as kit

ROOT = Path(algowatch.__file__).resolve().parent
SDK_MODULES = sorted([ROOT / "client.py", *ROOT.glob("_client_*.py")])
# the service, the engine, and what only they need (web, storage, metrics)
FORBIDDEN = (
    "algowatch.server",
    "algowatch.monitor",
    "algowatch.journal",
    "algowatch.risk",
    "algowatch.health",
    "algowatch.exporters",
    "fastapi",
    "starlette",
    "uvicorn",
    "prometheus_client",
)


def test_the_check_finds_lazy_and_relative_imports() -> None:
    """A function-level import and a relative one are both seen (the check is not blind)."""
    source = (
        "def start(self):\n"
        "    from algowatch.server import ServerThread, create_app\n"
        "    from .monitor import Monitor\n"
        "    return create_app\n"
    )
    names = kit.imported_modules(source, "algowatch.client")
    assert kit.under(names, FORBIDDEN) == [
        "algowatch.monitor",
        "algowatch.monitor.Monitor",
        "algowatch.server",
        "algowatch.server.ServerThread",
        "algowatch.server.create_app",
    ]


def test_the_sdk_has_its_modules() -> None:
    """The walk sees the client and its private modules (so the next test is not vacuous)."""
    names = {path.name for path in SDK_MODULES}
    assert {"client.py", "_client_buffer.py", "_client_delivery.py", "_client_helpers.py"} <= names


@pytest.mark.parametrize("path", SDK_MODULES, ids=lambda p: p.name)
def test_sdk_module_imports_neither_the_server_nor_the_engine(path: Path) -> None:
    """No import statement in the module (top-level, lazy or TYPE_CHECKING) names them."""
    module = kit.module_name(path, ROOT, "algowatch")
    names = kit.imported_modules(path.read_text(encoding="utf-8"), module)
    assert kit.under(names, FORBIDDEN) == []


def test_sending_events_loads_neither_the_server_nor_the_engine() -> None:
    """In a fresh interpreter, build a client and enqueue events: neither is loaded."""
    code = (
        "from algowatch.client import AsyncClient, Client\n"
        "client = Client('http://127.0.0.1:9', flush_interval_seconds=60, on_drop=lambda d: None)\n"
        "client.order_submitted('o1', 'AAPL', 'buy', 10, 'limit', limit_price=190.0)\n"
        "client.mark('AAPL', 190.5)\n"
        "assert client.stats().buffered == 2\n"
        "client.close(timeout=0)\n"
    )
    assert kit.loaded_after(code, FORBIDDEN) == []


def test_in_process_monitor_lives_with_the_server() -> None:
    """The public path of the in-process service is ``algowatch.server``, not the SDK."""
    import algowatch.client  # noqa: PLC0415 - the module under test
    import algowatch.server  # noqa: PLC0415

    assert "InProcessMonitor" in algowatch.server.__all__
    assert algowatch.server.InProcessMonitor.__module__ == "algowatch.server._in_process"
    assert not hasattr(algowatch.client, "InProcessMonitor")
