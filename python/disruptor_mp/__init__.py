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

The library is the one the wheel carries (``pip install ./python`` builds
and bundles it), else the file named by the environment variable
DISRUPTOR_MP_LIB. Importing fails with LibraryNotFound (an ImportError)
when neither loads or the library has an incompatible version.
"""

from ._lib import ABI_VERSION, LibraryNotFound
from ._core import (
    STATUS_NAMES,
    Abandoned,
    DmpError,
    DmpTimeout,
    Evicted,
    WouldBlock,
    library_version,
    status_str,
)
from .consumer import Batch, Consumer
from .payload import Pattern
from .producer import Claim, Producer, StallAlert
from .ring import Ring, RingInfo
from .snapshot import ConsumerStatus, Counter, ProducerStatus, RingStats, Snapshot
from .span import Run

__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION",
    "Abandoned",
    "ConsumerStatus",
    "Counter",
    "ProducerStatus",
    "RingStats",
    "Run",
    "Snapshot",
    "StallAlert",
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
