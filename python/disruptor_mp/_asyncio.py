"""asyncio support: ``async for batch in consumer.batches()`` on the
consumer's wake-up fd (``dmp_consumer_wait_fd``/``dmp_consumer_arm``,
docs/C_API.md "Wake-ups for event loops")."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, List, Optional

# A producer that dies between taking an arming and sending its datagram
# leaves the consumer armed with nothing coming (docs/ARCHITECTURE.md,
# "Wake-ups for event loops"): every wait is bounded by this, then the
# consumer arms again, which finds the events if any came.
REARM_AFTER = 0.05


async def batches(consumer, max_batch: Optional[int] = None) -> AsyncIterator[List[bytes]]:
    """Yields each available batch (copies of its events, abandoned
    sequences skipped); commits it when the loop asks for the next one.
    Waits with the running loop's add_reader, so the loop runs other tasks
    meanwhile and the process uses no CPU while the ring is idle."""
    if max_batch is not None and max_batch < 1:
        raise ValueError("max_batch must be at least 1")
    loop = asyncio.get_running_loop()
    fd = consumer.wait_fd()
    while True:
        if not consumer.arm():
            first = consumer.next_sequence
            last = consumer.wait_for(first, 0)
            if max_batch is not None:
                last = min(last, first + max_batch - 1)
            batch = []
            for seq in range(first, last + 1):
                view = consumer.event(seq)
                if view is not None:
                    batch.append(bytes(view))
            if batch:
                yield batch
            consumer.commit(last)
            continue
        readable = loop.create_future()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(fd, ready)
        try:
            await asyncio.wait({readable}, timeout=REARM_AFTER)
        finally:
            loop.remove_reader(fd)
        if readable.done():
            consumer.wakeups += 1
