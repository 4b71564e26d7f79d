"""algowatch: monitoring for algorithmic trading systems.

A trading system emits events (orders, fills, signals, marks, account
snapshots, errors); algowatch turns them into live P&L, risk and execution
metrics, Prometheus metrics and alerts, health endpoints, structured logs and a
tamper-evident audit trail.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from algowatch import _native

# compiled engine or pure Python: decided before any engine module is imported
_native.install()

try:
    __version__ = version("algowatch")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
