"""docs/configuration.md documents every setting, and its example loads."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from algowatch.settings import (
    HealthCheckSettings,
    ReceiverSettings,
    ReplicaSettings,
    Settings,
    load_settings,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _sections() -> dict[str, list[str]]:
    # "## `[server]`" / "### `[[health.checks]]`" headings -> the keys of the table below
    sections: dict[str, list[str]] = {}
    current = "top"
    for line in DOC.read_text().splitlines():
        heading = re.match(r"#+ `\[\[?([a-z.]+)\]\]?`", line)
        if heading:
            current = heading.group(1)
        elif line.startswith("## Top level"):
            current = "top"
        row = re.match(r"\| `([a-z0-9_]+)` \|", line)
        if row:
            sections.setdefault(current, []).append(row.group(1))
    return sections


def test_every_setting_is_documented_in_its_section() -> None:
    """Each field of each section has a row in that section's table, and no extra rows."""
    documented = _sections()
    expected: dict[str, list[str]] = {"top": []}

    def walk(struct: type[msgspec.Struct], section: str) -> None:
        # a section's own keys in its table; a nested section ([sources.hummingbot]) in its own
        for field in msgspec.structs.fields(struct):
            if isinstance(field.default, msgspec.Struct):
                walk(type(field.default), f"{section}.{field.name}".lstrip("."))
            else:
                expected.setdefault(section or "top", []).append(field.name)

    walk(Settings, "")
    expected["health.checks"] = [f.name for f in msgspec.structs.fields(HealthCheckSettings)]
    expected["alerts.receivers"] = [f.name for f in msgspec.structs.fields(ReceiverSettings)]
    expected["alerts.replicas"] = [f.name for f in msgspec.structs.fields(ReplicaSettings)]
    assert {k: sorted(v) for k, v in documented.items()} == {
        k: sorted(v) for k, v in expected.items()
    }


def test_configuration_example_loads(tmp_path: Path) -> None:
    """The TOML example at the top of the page is a valid configuration."""
    example = re.search(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert example is not None
    path = tmp_path / "algowatch.toml"
    path.write_text(example.group(1))
    settings = load_settings(path, environ={})
    assert settings.monitor.session_timezone == "America/New_York"
    assert settings.health.checks[0].critical is False
