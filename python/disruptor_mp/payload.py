"""The event pattern of ``dmp produce`` / ``dmp consume`` and the C and C++
examples, so that every language can verify what another wrote: event
number i in the first 8 bytes (native byte order), then byte
k = (i * 31 + k) mod 256 up to the end of the slot."""

from __future__ import annotations

import sys


class Pattern:
    """Fills and checks events for slots of ``size`` bytes."""

    def __init__(self, size: int):
        self.size = size
        # The tail depends only on i mod 256: build the 256 variants once.
        self._tails = [
            bytes(((i * 31) + k) & 0xFF for k in range(8, size)) for i in range(256)
        ]

    def fill(self, i: int) -> bytes:
        """The bytes of event number ``i``."""
        head = i.to_bytes(8, sys.byteorder)[: min(8, self.size)]
        return head + self._tails[i & 0xFF]

    def check(self, slot) -> int:
        """Returns the event number held by ``slot``; raises ValueError if
        its bytes do not follow the pattern."""
        n = min(8, self.size)
        i = int.from_bytes(bytes(slot[:n]).ljust(8, b"\0"), sys.byteorder)
        if slot[8:] != self._tails[i & 0xFF]:
            raise ValueError(f"event {i}: damaged payload {bytes(slot).hex()}")
        return i
