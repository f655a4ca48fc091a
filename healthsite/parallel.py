"""Work spread over all cores: forked children inherit the build's state (nothing is pickled
to them but the numbers of the items to do) and send back only their results, while this
process does its share (`each_indexed`); or one task done in a forked child while this
process goes on (`Background`)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
PARALLEL_MIN = 200  # below this many items, starting processes costs more than it saves


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
    this process while the others begin, only then). `progress` is called with the
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
    """`each_indexed` across `workers` processes: this one and `workers - 1` forked children.

    The items go in chunks, each taken by whichever process asks next (a pipe of tickets:
    a read of four bytes takes one, atomically). A child sends back each chunk's results,
    pickled; this process does chunks too, between handing out results in order, so that
    no core waits on a process that only gathers, and its own results are never pickled.
    A chunk that a child took but never sent back (it failed, or could not pickle a result)
    is done again here, so its exception, if any, is raised where it belongs."""
    import queue  # here: an edit build, with nothing to spread, starts sooner

    if prepare is not None:
        prepare()
    size = max(1, min(64, n // (workers * 32)), -(-n // _TICKETS))
    chunks = [range(start, min(start + size, n)) for start in range(0, n, size)]
    tickets, handout = os.pipe()
    os.write(handout, b"".join(i.to_bytes(4, "little") for i in range(len(chunks))))
    os.close(handout)  # (a read after the last ticket gets nothing)
    children: list[tuple[int, int]] = []  # (pid, read end of its results)
    readers: list[threading.Thread] = []
    box: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    finished = False
    try:
        for _ in range(workers - 1):
            children.append(_child(task, chunks, tickets, [fd for _, fd in children]))
        for _, fd in children:  # (threads only once every child is forked)
            readers.append(threading.Thread(target=_receive, args=(fd, box), daemon=True,
                                            name="healthsite-results"))
            readers[-1].start()
        if meanwhile is not None:
            meanwhile()
        yield from _gather(task, chunks, tickets, len(children), box, progress)
        finished = True
    finally:
        os.close(tickets)
        _reap(children, finished)
        for reader in readers:  # (their pipes are closed now: they end; a later stage can
            reader.join()       # fork only once they have)


_TICKETS = 8192  # at most this many chunks: their tickets fit in a pipe's buffer at once
_PIPE = 1 << 20  # a child's results pipe, in bytes (Linux's largest by default)


def _child(task: Callable[[int], T], chunks: list[range], tickets: int,
           others: list[int]) -> tuple[int, int]:
    """Fork a child that does chunks until the tickets run out, sending back each one's
    results (length, then pickle) on a pipe; returns (its pid, the pipe's read end)."""
    read, write = os.pipe()
    with contextlib.suppress(OSError, AttributeError):  # (Linux: room for a chunk's results,
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE)  # so the child need not wait on this
    pid = os.fork()                                     # process to read them)
    if pid == 0:  # the child: never returns into the caller's code
        code = 1
        try:
            os.close(read)
            for fd in others:  # (the other children's pipes are not this one's)
                os.close(fd)
            with os.fdopen(write, "wb") as out:
                while ticket := os.read(tickets, 4):
                    i = int.from_bytes(ticket, "little")
                    data = pickle.dumps((i, [task(j) for j in chunks[i]]),
                                        protocol=pickle.HIGHEST_PROTOCOL)
                    out.write(len(data).to_bytes(8, "little") + data)
                    out.flush()
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _gather(task: Callable[[int], T], chunks: list[range], tickets: int, children: int,
            box: Any, progress: Callable[[int], None] | None) -> Iterator[T]:
    """The results in order: each chunk's from the child that sent it (through `box`) or,
    while the next one is not in, from a chunk done here (by ticket, or because no child
    will send it: every child has stopped)."""
    import queue

    done: dict[int, list[T]] = {}
    stopped, more, count = 0, True, 0  # (children whose pipe closed; tickets may be left)

    def take(message: bytes | None) -> None:
        nonlocal stopped
        if message is None:
            stopped += 1
        else:
            i, results = pickle.loads(message)
            done[i] = results

    for c, chunk in enumerate(chunks):
        while c not in done:
            try:
                take(box.get_nowait())  # whatever the children sent meanwhile
                continue
            except queue.Empty:
                pass
            ticket = os.read(tickets, 4) if more else b""
            if ticket:
                i = int.from_bytes(ticket, "little")
                done[i] = [task(j) for j in chunks[i]]
            elif more:
                more = False
            elif stopped < children:
                take(box.get())  # wait for a child
            else:
                done[c] = [task(j) for j in chunk]
        for result in done.pop(c):
            _tick(progress, count)
            count += 1
            yield result


def _receive(fd: int, box: Any) -> None:
    """Read one child's messages into `box` until its pipe closes (or a message is cut
    short: the child failed), then put None."""
    try:
        with os.fdopen(fd, "rb") as fh:
            while len(head := fh.read(8)) == 8:
                size = int.from_bytes(head, "little")
                data = fh.read(size)
                if len(data) != size:
                    break
                box.put(data)
    except (OSError, ValueError):
        pass  # (what was not sent is done again by the build)
    finally:
        box.put(None)


def _reap(children: list[tuple[int, int]], finished: bool) -> None:
    """Wait for the children: they stop when the tickets run out; when the build gave up
    before the end (`finished` false), they are stopped."""
    for pid, _ in children:
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


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
