"""algowatch: monitoring for algorithmic trading systems.

A trading system emits events (orders, fills, signals, marks, account
snapshots, errors); algowatch turns them into live P&L, risk and execution
metrics, Prometheus metrics and alerts, health endpoints, structured logs and a
tamper-evident audit trail.
"""

from __future__ import annotations

from algowatch import _native

# compiled engine or pure Python: decided before any engine module is imported
_native.install()

__all__ = ["__version__"]

__version__: str


def __getattr__(name: str) -> str:
    # __version__ is read from the installed metadata on first use: importlib.metadata and
    # its look-up cost every command ~50 ms of start-up (a quarter of `algowatch replay` on a
    # one-event file), and most commands never print the version
    if name != "__version__":
        msg = f"module 'algowatch' has no attribute {name!r}"
        raise AttributeError(msg)
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - see above

    try:
        found = version("algowatch")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        found = "0.0.0"
    globals()["__version__"] = found
    return found
