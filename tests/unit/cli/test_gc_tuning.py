"""The serving processes' garbage collector pace (``cli.gc_tuning``)."""

from __future__ import annotations

import subprocess
import sys


def test_tuning_freezes_start_up_and_sets_the_pace() -> None:
    """In a fresh interpreter (the test process's collector stays as it is): start-up objects frozen,
    the thresholds ours, and a reference cycle still collected."""
    script = """
import gc, weakref
from cli.gc_tuning import OLDER_THRESHOLDS, YOUNG_THRESHOLD, tune_for_serving
before = gc.get_threshold()
tune_for_serving()
assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS) != before, gc.get_threshold()
class Node: pass
a, b = Node(), Node()
a.other, b.other = b, a
gone = weakref.ref(a)
del a, b
gc.collect()
assert gone() is None
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
