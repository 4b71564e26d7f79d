"""Public names: each package's ``__all__`` is sorted and matches what it defines."""

from __future__ import annotations

import types

import pytest

import algowatch.client
import algowatch.server


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order (as tests/unit/test_exports.py): CONSTANTS, Classes, the rest
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("module", [algowatch.server, algowatch.client])
def test_all_is_sorted_and_complete(module: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", module.__name__).startswith(module.__name__)
    }
    assert module.__all__ == sorted(module.__all__, key=_isort_key)
    assert set(module.__all__) >= public - {"annotations", "TYPE_CHECKING"}
    assert all(hasattr(module, name) for name in module.__all__)
