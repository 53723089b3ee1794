"""The garbage collector's pace for the long-running processes: the gateway's workers and the outbox worker.

CPython's cyclic collector runs its youngest generation after every 700 net allocations of container
objects. A request or a claimed batch allocates tens of thousands (an XML tree, a certificate's
dataclasses, SQLAlchemy rows), almost none of them in reference cycles, so those collections mostly
walk live objects for nothing. Freezing what start-up built (modules, the schemas, the routing
catalogue) also keeps the older generations' collections from walking it again and again. Measured on
two cores (``bench/resend.py``, 40,000 events, runs alternated): the worker drained 1,282 and 1,292
events/s at 968 and 991 µs of CPU per event with the default pace, 1,312 to 1,396 (five runs, mean
1,358) at 911 to 971 µs with this one: about 5% (the spread between runs is about as large, so it is
a direction more than a figure); CreateDraftCertificate moved by a few percent within the noise.

Cycles are still collected, only less often; memory between collections grows by at most the
generation's threshold in young objects.
"""

from __future__ import annotations

import gc

#: Allocations between collections of the youngest generation (CPython's default: 700).
YOUNG_THRESHOLD = 100_000
#: Young collections between collections of the middle generation, and those between full ones.
OLDER_THRESHOLDS = (50, 100)


def tune_for_serving() -> None:
    """Collect once, freeze what start-up built, and set the pace above; call once start-up is done."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
