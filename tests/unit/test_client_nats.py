"""The NATS transport's options and its optional import (no server needed here).

Publishing to a real JetStream server is tested in tests/integration/test_client_nats.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from algowatch._client_nats import default_bot, parse_servers, subject_token
from algowatch.client import Client

from .. import layering_kit as kit


def test_an_empty_label_becomes_one_placeholder_token() -> None:
    """A subject token is never empty (NATS refuses empty tokens)."""
    assert subject_token("") == "_"


def test_subject_tokens_replace_what_nats_reserves() -> None:
    """Dots, wildcards and spaces become underscores; letters, digits, - and _ stay."""
    assert subject_token("eu.desk *1 >") == "eu_desk__1__"
    assert subject_token("Momentum-2_b") == "Momentum-2_b"


def test_several_servers_are_split_on_commas() -> None:
    """A cluster is given as one string of comma-separated URLs."""
    assert parse_servers("nats://a:4222, nats://b:4223,tls://c") == [
        "nats://a:4222",
        "nats://b:4223",
        "tls://c",
    ]


@pytest.mark.parametrize("url", ["nats://", "nats://a:notaport", "nats://a:4222,http://b"])
def test_a_malformed_server_url_is_refused_with_the_value(url: str) -> None:
    """The error names the option, the value received and the expected form."""
    expected = (
        "base_url must be a NATS server such as 'nats://127.0.0.1:4222' (several separated "
        f"by commas), received {url!r}"
    )
    with pytest.raises(ValueError, match="^" + expected.replace("(", r"\(").replace(")", r"\)")):
        Client(url)


def test_nats_options_with_an_http_url_are_refused() -> None:
    """bot= means nothing over HTTP: refused rather than silently ignored."""
    with pytest.raises(
        ValueError,
        match=r"^bot applies to nats:// URLs only, received bot='b1' with 'http://127.0.0.1:9'$",
    ):
        Client("http://127.0.0.1:9", bot="b1")


def test_an_empty_bot_name_is_refused() -> None:
    """The bot is a subject token: it cannot be empty."""
    with pytest.raises(ValueError, match=r"^bot must be a non-empty name, received ''$"):
        Client("nats://127.0.0.1:9", bot="")


def test_the_default_bot_is_the_strategy_label_else_the_program_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """strategy wins; then the stem of argv[0]; then 'bot' for python -c or a REPL."""
    assert default_bot("momentum") == "momentum"
    monkeypatch.setattr(sys, "argv", ["/opt/bots/mean_reversion.py", "--live"])
    assert default_bot("default") == "mean_reversion"
    monkeypatch.setattr(sys, "argv", ["-c"])
    assert default_bot("default") == "bot"
    monkeypatch.setattr(sys, "argv", [""])
    assert default_bot("default") == "bot"


def test_an_http_client_never_imports_nats() -> None:
    """nats-py is loaded only for a nats:// URL (a bot over HTTP does not pay for it)."""
    code = (
        "from algowatch.client import Client\n"
        "client = Client('http://127.0.0.1:9', flush_interval_seconds=60)\n"
        "client.mark('AAPL', 190.5)\n"
        "client.close(timeout=0)\n"
    )
    assert kit.loaded_after(code, ("nats",)) == []


def test_a_nats_url_without_the_extra_names_the_extra_to_install() -> None:
    """Without nats-py, Client('nats://...') raises MissingDependencyError naming the extra."""
    code = (
        "import sys\n"
        "sys.modules['nats'] = None  # as if nats-py were not installed\n"
        "from algowatch.client import Client\n"
        "from algowatch.errors import MissingDependencyError\n"
        "try:\n"
        "    Client('nats://127.0.0.1:9')\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "a nats:// URL needs nats-py, the 'nats' extra of algowatch (not installed): "
        "pip install 'algowatch[nats]'"
    )


def test_jetstream_answers_become_one_result_per_event() -> None:
    """A PubAck is True for a duplicate and False otherwise; errors and 503 become exceptions."""
    pytest.importorskip("nats")
    from nats.js.errors import APIError, NoStreamResponseError  # noqa: PLC0415 - optional

    from algowatch._client_nats import _ack_result  # noqa: PLC0415 - after the skip

    assert _ack_result(b'{"stream":"ALGOWATCH","seq":7}', b"") is False
    assert _ack_result(b'{"stream":"ALGOWATCH","seq":7,"duplicate":true}', b"") is True
    refused = _ack_result(
        b'{"error":{"code":400,"err_code":10054,"description":"message size exceeds maximum"}}',
        b"",
    )
    assert isinstance(refused, APIError)
    assert (refused.code, refused.err_code) == (400, 10054)
    assert isinstance(_ack_result(b"", b"NATS/1.0 503\r\n\r\n"), NoStreamResponseError)
    garbage = _ack_result(b"not json", b"")
    assert isinstance(garbage, ValueError)
    assert "unexpected JetStream answer: b'not json'" in str(garbage)
