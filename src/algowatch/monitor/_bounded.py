"""Bounded memory for the engine: label folding and the ring of recent event ids.

Compiled with the engine (see :mod:`algowatch._native`).
"""

from __future__ import annotations

from typing import Final

__all__ = ["OTHER", "LabelFolder", "RecentIds"]

#: The label that every name past a folder's limit becomes.
OTHER: Final = "other"


class LabelFolder:
    """A bounded label set: the first ``limit`` names are kept, later ones become ``"other"``.

    The engine decides the folding once, here; every exporter reads its decision.
    """

    __slots__ = ("folded", "limit", "names")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.names: set[str] = set()
        self.folded = 0

    def __call__(self, name: str) -> str:
        """Return ``name`` if it is (or can become) one of the kept labels, else ``"other"``."""
        if name in self.names:
            return name
        if len(self.names) < self.limit:
            self.names.add(name)
            return name
        self.folded += 1
        return OTHER


class RecentIds:
    """The last ``limit`` event ids, for de-duplication in O(1) memory per id.

    A set answers "seen?"; a ring of the same ids (a list and a cursor: no method
    calls on the hot path) says which one to forget when a new one comes.
    """

    __slots__ = ("limit", "next", "ring", "seen")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()
        self.ring: list[str] = []
        self.next = 0

    def add(self, event_id: str) -> bool:
        """Remember ``event_id``; return False if it is one of the last ``limit`` ids."""
        seen = self.seen
        size = len(seen)
        seen.add(event_id)  # one hash lookup for "seen?" and "remember"
        if len(seen) == size:
            return False
        ring = self.ring
        if len(ring) < self.limit:
            ring.append(event_id)
        elif ring:
            slot = self.next
            seen.discard(ring[slot])
            ring[slot] = event_id
            self.next = slot + 1 if slot + 1 < len(ring) else 0
        else:  # limit 0: remember nothing
            seen.discard(event_id)
        return True
