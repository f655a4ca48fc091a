"""Work spread over all cores: forked worker processes inherit the build's state (nothing is
pickled to them but an index) and send back only their results."""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
PARALLEL_MIN = 200  # below this many items, starting processes costs more than it saves

_TASK: Callable[[int], Any] | None = None


def _run(index: int) -> Any:
    assert _TASK is not None
    return _TASK(index)


def can_fork() -> bool:
    """Whether work can go to forked processes: the platform forks, and this process has no
    other threads (a child forked from a threaded process may inherit a held lock)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def map_indexed(task: Callable[[int], T], n: int,
                progress: Callable[[int], None] | None = None,
                prepare: Callable[[], None] | None = None,
                meanwhile: Callable[[], object] | None = None) -> list[T]:
    """[task(0), ..., task(n - 1)], across all cores when n is large enough and processes
    can be forked (`prepare` runs first, in this process, only then; `meanwhile` runs in
    this process while the workers are busy, only then). `progress` is called with the
    number done every 100 items."""
    return list(each_indexed(task, n, progress, prepare, meanwhile))


def each_indexed(task: Callable[[int], T], n: int,
                 progress: Callable[[int], None] | None = None,
                 prepare: Callable[[], None] | None = None,
                 meanwhile: Callable[[], object] | None = None) -> Iterator[T]:
    """`map_indexed`, handing out each result, in order, as soon as it is done."""
    workers = cores()
    if n < PARALLEL_MIN or workers < 2 or not can_fork():
        for i in range(n):
            _tick(progress, i)
            yield task(i)
    else:
        yield from _forked(task, n, workers, progress, prepare, meanwhile)


def _forked(task: Callable[[int], T], n: int, workers: int,
            progress: Callable[[int], None] | None,
            prepare: Callable[[], None] | None,
            meanwhile: Callable[[], object] | None) -> Iterator[T]:
    """`each_indexed` in a pool of forked processes."""
    import multiprocessing  # here: an edit build, with nothing to spread, starts sooner

    global _TASK
    if prepare is not None:
        prepare()
    _TASK = task
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            chunk = max(8, n // (workers * 8))
            results = pool.imap(_run, range(n), chunksize=chunk)
            if meanwhile is not None:
                meanwhile()
            for i, result in enumerate(results):
                _tick(progress, i)
                yield result
    finally:
        _TASK = None


def _tick(progress: Callable[[int], None] | None, done: int) -> None:
    """Tell `progress` the number done, every 100 items."""
    if progress is not None and done % 100 == 0:
        progress(done)


class Background(Generic[T]):
    """`task()` worked out in a forked child while this process goes on with something else
    (when asked to do it `now`, on one core, or when forking is not possible, it is simply
    done at once). The child sends back only the pickled result; if it fails in any way,
    `result` does the task again here, so its exception, if any, is raised where it
    belongs. Fork while the process is small: until the child exits, every page either
    process writes to is copied (see bench/README.md)."""

    def __init__(self, task: Callable[[], T], now: bool = False) -> None:
        self._task = task
        self._value: tuple[T] | None = None
        self._child: tuple[int, int] | None = None  # (pid, read end of the pipe)
        if now or cores() < 2 or not can_fork():
            self._value = (task(),)
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            code = 1
            try:
                os.close(read)
                data = pickle.dumps(task(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as fh:
                    fh.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._child = (pid, read)

    def __del__(self) -> None:  # never asked: let the child go (its writes now fail)
        if self._child is not None:
            pid, read = self._child
            os.close(read)
            os.waitpid(pid, 0)

    def result(self) -> T:
        if self._value is None:
            assert self._child is not None
            pid, read = self._child
            self._child = None
            with os.fdopen(read, "rb") as fh:
                data = fh.read()
            _, status = os.waitpid(pid, 0)
            value: tuple[T] | None = None
            if os.waitstatus_to_exitcode(status) == 0:
                try:
                    value = (pickle.loads(data),)
                except Exception:  # noqa: BLE001 (a garbled answer: work it out here)
                    value = None
            self._value = value if value is not None else (self._task(),)
        return self._value[0]
