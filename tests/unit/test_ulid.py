"""``UlidGenerator``: ULIDs of given times, checked against python-ulid's parser."""

from __future__ import annotations

import pytest
from ulid import ULID

from algowatch._ulid import UlidGenerator

TS = 1_735_828_200_123_456_789  # 2025-01-02T14:30:00.123456789Z


def test_ids_are_ulids_of_the_given_millisecond_unique_and_rising_within_it() -> None:
    ids = UlidGenerator()
    ids.refill()
    made = [ids(TS + i) for i in range(1000)]
    assert len(set(made)) == 1000
    assert made == sorted(made)
    assert all(str(ULID.from_str(text)) == text for text in made)
    assert {ULID.from_str(text).milliseconds for text in made} == {TS // 1_000_000}


def test_the_time_part_is_the_ulid_encoding_of_the_millisecond() -> None:
    ids = UlidGenerator()
    assert ids(0).startswith("0000000000")
    assert ids(TS)[:10] == str(ULID.from_timestamp(TS // 1_000_000 / 1000))[:10]
    assert ULID.from_str(ids(TS + 1_000_000)).milliseconds == TS // 1_000_000 + 1


@pytest.mark.parametrize("ts", [-1_000_000, (1 << 48) * 1_000_000, TS * 1000])
def test_a_time_a_ulid_cannot_hold_raises(ts: int) -> None:
    with pytest.raises(ValueError, match=r"^a ULID's time must be within \[0, 2\*\*48\) ms, "):
        UlidGenerator()(ts)
