"""Each package's __all__ is sorted and names exactly its public names."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["algowatch.exporters", "algowatch.deploy"])
def test_all_is_sorted_and_complete(package: str) -> None:
    """__all__ is sorted, resolvable, and lists every public attribute."""
    module = importlib.import_module(package)
    exported = module.__all__
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(module, name), name
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith(package)
        and not isinstance(value, type(module))
    }
    assert public <= set(exported)
