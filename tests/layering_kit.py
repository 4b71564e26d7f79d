"""Check which modules a package imports: every import statement in its source, and a fresh run.

Shared by the layering tests (the SDK, the simulator). The source check walks the
whole syntax tree, so lazy imports inside functions and ``TYPE_CHECKING`` blocks
count too; the run check imports the package in a new interpreter and lists what
``sys.modules`` then holds.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def imported_modules(source: str, module: str) -> set[str]:
    """Return every module an import statement anywhere in ``source`` names.

    ``module`` is the dotted name of the module ``source`` belongs to (for a
    package's ``__init__``, the package name plus ``.__init__``), so that relative
    imports resolve. ``from a import b`` yields both ``a`` and ``a.b``.
    """
    names: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def module_name(path: Path, root: Path, package: str) -> str:
    """Return the dotted name of the module at ``path`` in ``package`` rooted at ``root``."""
    relative = path.relative_to(root).with_suffix("")
    name = ".".join((package, *relative.parts))
    if relative.name == "__init__":
        return name.rsplit(".", 1)[0] + ".__init__"
    return name


def under(names: Iterable[str], prefixes: Iterable[str]) -> list[str]:
    """Return the sorted ``names`` that are one of ``prefixes`` or inside one of them."""
    wanted = tuple(prefixes)
    return sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in wanted))


def loaded_after(code: str, prefixes: Iterable[str]) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the loaded modules under ``prefixes``."""
    probe = (
        f"{code}\n"
        "import sys\n"
        f"prefixes = {tuple(prefixes)!r}\n"
        "print(sorted(k for k in sys.modules"
        " if any(k == p or k.startswith(p + '.') for p in prefixes)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return list(ast.literal_eval(done.stdout.strip().splitlines()[-1]))
