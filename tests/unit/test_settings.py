"""Settings: one frozen object from TOML, ALGOWATCH_* variables and overrides."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from algowatch.errors import ConfigError
from algowatch.settings import Settings, load_settings


def test_load_settings_without_sources_gives_the_documented_defaults() -> None:
    """Defaults: loopback bind on 8000, SQLite journal, UTC sessions."""
    settings = load_settings(environ={})
    assert settings == Settings()
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8000)
    assert settings.journal.backend == "sqlite"
    assert settings.monitor.session_timezone == "UTC"


def test_load_settings_reads_toml_sections(tmp_path: Path) -> None:
    """A TOML file sets nested sections, including arrays of tables."""
    path = tmp_path / "algowatch.toml"
    path.write_text(
        'data_dir = "/tmp/x"\n'
        "[server]\nport = 8123\n"
        '[[health.checks]]\nname = "cache"\nkind = "redis"\ntarget = "redis://127.0.0.1:6379/0"\n'
    )
    settings = load_settings(path, environ={})
    assert settings.data_dir == "/tmp/x"
    assert settings.server.port == 8123
    assert settings.health.checks[0].name == "cache"
    assert settings.health.checks[0].critical is True


def test_environment_overrides_file_and_overrides_win_last(tmp_path: Path) -> None:
    """Precedence: file < ALGOWATCH_* < explicit overrides (CLI flags)."""
    path = tmp_path / "a.toml"
    path.write_text("[server]\nport = 8123\nhost = '127.0.0.2'\n")
    env = {
        "ALGOWATCH_SERVER__PORT": "8200",
        "ALGOWATCH_TOKEN": "s3cret-0123456789abcdef",
        "HOME": "/root",
    }
    settings = load_settings(path, environ=env, overrides={"server.host": "127.0.0.3"})
    assert settings.server.port == 8200
    assert settings.server.token == "s3cret-0123456789abcdef"
    assert settings.server.host == "127.0.0.3"


def test_none_overrides_are_ignored() -> None:
    """An unset CLI flag (None) does not override anything."""
    settings = load_settings(environ={}, overrides={"server.port": None})
    assert settings.server.port == 8000


def test_unknown_key_in_file_is_rejected_by_name(tmp_path: Path) -> None:
    """A typo in the file names the key and its section."""
    path = tmp_path / "a.toml"
    path.write_text("[monitor]\nstarting_captial = 5\n")
    with pytest.raises(ConfigError, match=r"unknown field `starting_captial` - at `\$.monitor`"):
        load_settings(path, environ={})


def test_unknown_section_is_rejected_by_name() -> None:
    """An unknown section from the environment is named."""
    with pytest.raises(ConfigError, match=r"unknown field `sever`"):
        load_settings(environ={"ALGOWATCH_SEVER__PORT": "1"})


def test_wrong_type_names_the_key() -> None:
    """A value of the wrong type names the dotted path."""
    with pytest.raises(ConfigError, match=r"Expected `int`, got `str` - at `\$.server.port`"):
        load_settings(environ={"ALGOWATCH_SERVER__PORT": "eighty"})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A missing config file is named."""
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"config file .*nope.toml' does not exist"):
        load_settings(missing, environ={})


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    """A syntax error names the file and the parser's position."""
    path = tmp_path / "bad.toml"
    path.write_text("[server\nport = 1\n")
    with pytest.raises(ConfigError, match=r"bad.toml' is not valid TOML: .*line 1"):
        load_settings(path, environ={})


def test_settings_are_frozen() -> None:
    """Settings cannot be changed after loading."""
    settings = load_settings(environ={})
    with pytest.raises(AttributeError):
        settings.server.port = 1  # type: ignore[misc]
    assert msgspec.structs.replace(settings.server, port=1).port == 1


@pytest.mark.parametrize("value", [0, -300])
def test_max_future_seconds_given_zero_or_negative_is_rejected_by_name(value: int) -> None:
    """A window of zero or less would refuse every live event: the setting must be > 0."""
    with pytest.raises(
        ConfigError, match=r"Expected `float` > 0.0 - at `\$.server.max_future_seconds`"
    ):
        load_settings(environ={}, overrides={"server.max_future_seconds": value})


def test_max_future_seconds_given_inf_turns_the_window_off() -> None:
    """``inf`` stays accepted: it is the documented way to turn the check off."""
    settings = load_settings(environ={"ALGOWATCH_SERVER__MAX_FUTURE_SECONDS": "inf"})
    assert settings.server.max_future_seconds == float("inf")


@pytest.mark.parametrize(
    ("key", "replacement"),
    [
        ("max_drawdown_ratio", "risk.max_drawdown"),
        ("daily_loss_usd", "risk.daily_loss_limit"),
        ("rejection_rate", "risk.max_rejection_rate"),
        ("rejection_min_orders", "risk.min_orders_for_rejection_rate"),
    ],
)
def test_alert_keys_that_duplicated_a_risk_limit_are_refused(
    key: str, replacement: str, tmp_path: Path
) -> None:
    """One source of truth: an old [alerts] limit stops the command naming the [risk] key."""
    path = tmp_path / "algowatch.toml"
    path.write_text(f"[alerts]\n{key} = 0.1\n")
    with pytest.raises(ConfigError, match=rf"alerts\.{key} was removed .* set {replacement}"):
        load_settings(path, environ={})


def test_the_receivers_example_of_the_docs_loads(tmp_path: Path) -> None:
    """docs/configuration.md's [[alerts.receivers]] example is a valid configuration."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    example = next(b for b in re.findall(r"```toml\n(.*?)```", doc, re.DOTALL) if "receivers" in b)
    path = tmp_path / "algowatch.toml"
    path.write_text(example)
    receivers = load_settings(path, environ={}).alerts.receivers
    assert [(r.kind, r.route) for r in receivers] == [
        ("webhook", "critical"),
        ("pagerduty", "critical"),
        ("email", "team"),
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "slack", "channel": "#desk"}, "kind 'slack' needs api_url_file"),
        ({"kind": "webhook", "url": "http://h/x", "to": "a@b.c"}, "kind 'webhook' does not use to"),
    ],
)
def test_a_receiver_names_what_its_kind_misses_or_does_not_use(
    entry: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={}, overrides={"alerts.receivers": [entry]})
