"""scripts/_uv.sh: the uv that scripts/bootstrap put in .venv-tools is a real command on PATH.

CI once failed here: the helper defined `uv` as a shell function, and scripts/test ends with
`exec uv run ...`, which cannot exec a function (exit 127, "uv: not found").
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HELPER = Path(__file__).resolve().parents[3] / "scripts" / "_uv.sh"


def _project_with_private_uv(tmp_path: Path) -> Path:
    """A folder laid out as bootstrap leaves it: .venv-tools/bin/uv (here a script)."""
    tools = tmp_path / ".venv-tools" / "bin"
    tools.mkdir(parents=True)
    uv = tools / "uv"
    uv.write_text('#!/bin/sh\necho "private uv $*"\n')
    uv.chmod(0o755)
    (tools / "python").write_text("#!/bin/sh\necho private python\n")
    (tools / "python").chmod(0o755)
    return tmp_path


def _run(project: Path, script: str) -> subprocess.CompletedProcess[str]:
    # a PATH with no uv on it, as on a fresh machine
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . "{HELPER}"; {script}'],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_exec_uv_runs_the_private_uv(tmp_path: Path) -> None:
    project = _project_with_private_uv(tmp_path)
    done = _run(project, "uv_ready; exec uv run --frozen pytest")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "private uv run --frozen pytest"


def test_child_processes_find_uv_but_not_the_private_python(tmp_path: Path) -> None:
    project = _project_with_private_uv(tmp_path)
    done = _run(project, 'uv_ready; bash -c "uv --version"; command -v python || true')
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "private uv --version"
    assert all(".venv-tools/bin" not in line for line in lines[1:])


def test_no_uv_anywhere_is_reported(tmp_path: Path) -> None:
    done = _run(tmp_path, "if uv_ready; then echo found; else echo missing; fi")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "missing"
