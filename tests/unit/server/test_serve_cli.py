"""``algowatch serve``: settings from flags, TOML and environment; refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from algowatch.cli import main


def test_non_loopback_host_without_token_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 1 with a message naming the setting and both fixes; nothing is served."""
    code = main(["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    assert code == 1
    assert capsys.readouterr().err == (
        "Error: server.host '0.0.0.0' accepts connections from other machines, so "
        "server.token is required: set ALGOWATCH_TOKEN or bind 127.0.0.1\n"
    )


def test_host_from_the_config_file_is_checked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "algowatch.toml"
    config.write_text('[server]\nhost = "::"\n')
    assert main(["serve", "--config", str(config)]) == 1
    assert "server.host '::' accepts connections" in capsys.readouterr().err


def test_unknown_setting_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "algowatch.toml"
    config.write_text("[server]\nprot = 1\n")
    assert main(["serve", "--config", str(config)]) == 1
    assert capsys.readouterr().err == (
        "Error: Object contains unknown field `prot` - at `$.server`\n"
    )


def test_invalid_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert "70000 is not in the range 0<=x<=65535" in capsys.readouterr().err


def test_startup_failure_is_reported_with_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data folder that cannot be created stops the service with a one-line error."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(
        ["serve", "--port", "0", "--data-dir", str(blocker / "data"), "--log-level", "error"]
    )
    assert code == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"Error: [Errno 20] Not a directory: '{blocker / 'data'}'"
    )
