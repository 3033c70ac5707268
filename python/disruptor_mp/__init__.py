"""disruptor_mp: Python bindings (ctypes) for libdisruptor_mp, a
multi-process ring buffer over shared memory.

    import disruptor_mp as dmp

    with dmp.Ring.create("quotes", capacity=4096, slot_size=64) as ring:
        with ring.consumer("audit") as consumer, ring.producer() as producer:
            with producer.claim(2, timeout=1.0) as claim:   # published at the end
                for view in claim:
                    view[:5] = b"hello"
            with consumer.wait(timeout=1.0) as batch:       # committed at the end
                for view in batch:
                    print(bytes(view[:5]))

The library is found through the environment variable DISRUPTOR_MP_LIB
(the path of libdisruptor_mp.so), then the dynamic loader's search path,
then the usual prefixes. Importing fails with LibraryNotFound (an
ImportError) when it is missing or has an incompatible version.
"""

from ._lib import ABI_VERSION, LibraryNotFound
from .payload import Pattern
from .ring import (
    STATUS_NAMES,
    Batch,
    Claim,
    Consumer,
    DmpError,
    DmpTimeout,
    Evicted,
    Producer,
    Ring,
    RingInfo,
    WouldBlock,
    library_version,
    status_str,
)

__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION",
    "Batch",
    "Claim",
    "Consumer",
    "DmpError",
    "DmpTimeout",
    "Evicted",
    "LibraryNotFound",
    "Pattern",
    "Producer",
    "Ring",
    "RingInfo",
    "STATUS_NAMES",
    "WouldBlock",
    "library_version",
    "status_str",
]
