"""Every public module re-exports exactly its public names, in a sorted ``__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import algowatch


def _isort_key(name: str) -> tuple[int, str]:
    # the order ruff's RUF022 enforces: CONSTANTS, then Classes, then everything else
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _public_modules() -> list[str]:
    names = ["algowatch"]
    for info in pkgutil.walk_packages(algowatch.__path__, prefix="algowatch."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[1] in {"cli", "testing"}:
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _public_modules())
def test_module_all_is_sorted_and_names_exist(name: str) -> None:
    """__all__ is sorted as ruff's RUF022 sorts it and each name is defined."""
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names undefined {missing}"


@pytest.mark.parametrize("name", _public_modules())
def test_module_all_lists_every_public_definition(name: str) -> None:
    """Public classes and functions defined in a module are listed in its __all__."""
    module = importlib.import_module(name)
    exported = set(getattr(module, "__all__", ()))
    defined = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == name
    }
    assert defined <= exported, f"{name} defines public names not in __all__: {defined - exported}"


def test_packages_re_export_their_submodules_public_api() -> None:
    """A package's __all__ names resolve to objects, not modules."""
    for name in _public_modules():
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            if attr == "__version__":
                continue
            assert not isinstance(getattr(module, attr), types.ModuleType), f"{name}.{attr}"
