"""`StackKey`: where one SIM stack belongs in a run: time point, position, z plane, channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["StackKey"]


class StackKey(NamedTuple):
    """(t, p, z, c) of a SIM stack: time point, stage position, z plane and channel indices.

    A tuple, so it sorts, hashes and unpacks as ``t, p, z, c = key``; read fields by name
    (``key.c``) rather than by position. The run store, the pipeline's signals and reprocessing
    all index stacks by it.
    """

    t: int
    p: int
    z: int
    c: int

    @classmethod
    def from_index(cls, index: Mapping[str, int]) -> StackKey:
        """The key of a useq event index (``{"t": 3, "c": 1, ...}``); missing axes count as 0.

        Other keys (the SIM keys ``"a"``/``"ph"``, a grid ``"g"``) are ignored.
        """
        return cls(
            int(index.get("t", 0)),
            int(index.get("p", 0)),
            int(index.get("z", 0)),
            int(index.get("c", 0)),
        )

    def __str__(self) -> str:
        return f"(t={self.t}, p={self.p}, z={self.z}, c={self.c})"
