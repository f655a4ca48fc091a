"""Work spread over all cores: forked worker processes inherit the build's state (nothing is
pickled to them but an index) and send back only their results."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
PARALLEL_MIN = 200  # below this many items, starting processes costs more than it saves

_TASK: Callable[[int], Any] | None = None


def _run(index: int) -> Any:
    assert _TASK is not None
    return _TASK(index)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def map_indexed(task: Callable[[int], T], n: int,
                progress: Callable[[int], None] | None = None,
                prepare: Callable[[], None] | None = None) -> list[T]:
    """[task(0), ..., task(n - 1)], across all cores when n is large enough and processes
    can be forked (`prepare` runs first, in this process, only then). `progress` is called
    with the number done every 100 items."""
    return list(each_indexed(task, n, progress, prepare))


def each_indexed(task: Callable[[int], T], n: int,
                 progress: Callable[[int], None] | None = None,
                 prepare: Callable[[], None] | None = None) -> Iterator[T]:
    """`map_indexed`, handing out each result, in order, as soon as it is done."""
    forkable = "fork" in multiprocessing.get_all_start_methods()
    workers = cores()
    if n < PARALLEL_MIN or workers < 2 or not forkable:
        for i in range(n):
            if progress is not None and i % 100 == 0:
                progress(i)
            yield task(i)
        return
    global _TASK
    if prepare is not None:
        prepare()
    _TASK = task
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            chunk = max(8, n // (workers * 8))
            for i, result in enumerate(pool.imap(_run, range(n), chunksize=chunk)):
                if progress is not None and i % 100 == 0:
                    progress(i)
                yield result
    finally:
        _TASK = None
