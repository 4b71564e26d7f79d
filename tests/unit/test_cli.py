"""The CLI edge: lazy commands, one exit-code mapping, no tracebacks without --debug."""

from __future__ import annotations

import subprocess
import sys
import types
from typing import Any

import click
import pytest

from algowatch import cli
from algowatch.errors import DataFileError


@click.command()
@click.argument("code", type=int)
@click.pass_context
def _exits(ctx: click.Context, code: int) -> None:
    ctx.exit(code)


@click.command()
def _fails() -> None:
    msg = "returns.csv has no column named 'returns'"
    raise DataFileError(msg)


@pytest.fixture
def fake_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register two throwaway commands next to the real ones."""
    module = types.ModuleType("algowatch._cli._fake")
    module._exits = _exits  # type: ignore[attr-defined]
    module._fails = _fails  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "algowatch._cli._fake", module)
    commands: dict[str, Any] = dict(cli._COMMANDS)
    commands["exits"] = ("_fake", "_exits", "exit with a code")
    commands["fails"] = ("_fake", "_fails", "raise a library error")
    monkeypatch.setattr(cli, "_COMMANDS", commands)


def test_main_passes_a_commands_exit_code_through(fake_commands: None) -> None:
    """ctx.exit(N) inside a command becomes the process exit code (audit verify uses 0-4)."""
    assert cli.main(["exits", "3"]) == 3
    assert cli.main(["exits", "0"]) == 0


def test_main_maps_library_errors_to_exit_1_without_traceback(
    fake_commands: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """An AlgowatchError prints one 'Error:' line on stderr and exits 1."""
    assert cli.main(["fails"]) == 1
    err = capsys.readouterr().err
    assert err == "Error: returns.csv has no column named 'returns'\n"


def test_main_with_debug_shows_the_traceback(fake_commands: None) -> None:
    """--debug lets the exception propagate."""
    with pytest.raises(DataFileError):
        cli.main(["--debug", "fails"])


def test_main_given_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Usage errors exit 2."""
    assert cli.main(["no-such-command"]) == 2
    assert "No such command 'no-such-command'" in capsys.readouterr().err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists the commands without importing them."""
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("analyze", "audit", "config", "demo", "replay", "serve", "sim"):
        assert name in out


def test_version_option_prints_the_installed_version_and_the_engine(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--version names the installed distribution's version and the engine build."""
    import importlib.metadata  # noqa: PLC0415 - the expected value, read independently

    import algowatch  # noqa: PLC0415
    from algowatch import _native  # noqa: PLC0415

    installed = importlib.metadata.version("algowatch")
    assert cli.main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"algowatch, version {installed} (engine: {_native.STATUS})"
    assert algowatch.__version__ == installed


def test_importing_the_cli_does_not_import_package_metadata() -> None:
    """The version is read when asked for: a command that does not print it never loads it."""
    code = "import sys, algowatch.cli; print('importlib.metadata' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
