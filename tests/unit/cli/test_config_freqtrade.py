"""``algowatch config freqtrade``: the webhook block for freqtrade's config.json."""

from __future__ import annotations

import json

import pytest

from algowatch.cli import main
from algowatch.integrations.freqtrade import MESSAGE_TYPES

TOKEN = "s3cret-token-0123456789"


def test_block_posts_json_to_the_route_with_the_token_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALGOWATCH_TOKEN", TOKEN)
    code = main(["config", "freqtrade", "--url", "http://10.1.2.3:8000/", "--strategy", "Ma{x}"])
    assert code == 0
    block = json.loads(capsys.readouterr().out)["webhook"]
    assert block["url"] == f"http://10.1.2.3:8000/api/v1/sources/freqtrade?token={TOKEN}"
    assert (block["enabled"], block["format"]) == (True, "json")
    assert set(MESSAGE_TYPES) <= set(block)
    # freqtrade str.format()s every template: literal braces come back single
    assert block["exit_fill"]["strategy"].format() == "Ma{x}"
    assert "account" not in block["entry"]


def test_block_without_a_token_has_none_in_the_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALGOWATCH_TOKEN", raising=False)
    assert main(["config", "freqtrade", "--url", "https://algowatch.example"]) == 0
    block = json.loads(capsys.readouterr().out)["webhook"]
    assert block["url"] == "https://algowatch.example/api/v1/sources/freqtrade"


def test_url_without_a_scheme_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "freqtrade", "--url", "localhost:8000"]) == 2
    assert "--url must start with http:// or https://, received 'localhost:8000'" in (
        capsys.readouterr().err
    )
