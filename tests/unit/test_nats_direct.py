"""The direct delivery path's one dependency on nats-py's internals (no server)."""

from __future__ import annotations

import inspect

import pytest

nats_client = pytest.importorskip("nats.aio.client")
nats_parser = pytest.importorskip("nats.protocol.parser")

from algowatch._nats_direct import DirectConnection  # noqa: E402 - after the skip


def test_the_override_has_the_signature_of_nats_py_process_msg() -> None:
    """DirectConnection._process_msg takes what nats-py's parser hands every message."""
    theirs = inspect.signature(nats_client.Client._process_msg)
    ours = inspect.signature(DirectConnection._process_msg)
    assert list(ours.parameters) == list(theirs.parameters)
    assert list(ours.parameters) == ["self", "sid", "subject", "reply", "data", "headers"]
    # the parser passes them positionally in that order
    source = inspect.getsource(nats_parser.Parser.parse)
    assert "self.nc._process_msg(sid, subject, reply, payload, hdr)" in source


def test_a_subscription_without_a_direct_handler_takes_nats_py_path() -> None:
    """Only subscribe_direct registers a handler; a new connection has none."""
    assert DirectConnection()._direct == {}
