"""Work handed to forked processes gives what doing it here gives, or is done here."""

from __future__ import annotations

import os
import threading
import time

import pytest

from healthsite import parallel
from healthsite.parallel import Background, map_indexed


def _forks() -> bool:
    return parallel.cores() >= 2 and parallel.can_fork()


def test_background_work_is_done_in_a_child_and_handed_back() -> None:
    if not _forks():
        pytest.skip("needs two cores and fork")
    here = os.getpid()
    look = Background(lambda: (os.getpid(), {"x": "x" * 64} | {str(i): i for i in range(9999)}))
    pid, table = look.result()
    assert pid != here and table["x"] == "x" * 64 and len(table) == 10000
    assert look.result() == (pid, table)  # asked again: the same answer
    assert Background(os.getpid, now=True).result() == here


def test_background_failures_are_worked_out_again_here() -> None:
    # an exception in the child: the task is done again here, so it is raised here
    with pytest.raises(ZeroDivisionError):
        Background(lambda: 1 // 0).result()
    # a result that cannot be sent back (a function cannot be pickled) is made here
    made = Background(lambda: (lambda: os.getpid())).result()
    assert made() == os.getpid()


def test_background_does_not_fork_a_threaded_process() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not parallel.can_fork()
        assert Background(os.getpid).result() == os.getpid()
    finally:
        release.set()
        thread.join()


def test_background_never_asked_lets_its_child_go() -> None:
    look = Background(lambda: b"x" * 1_000_000)  # more than a pipe holds: the child waits
    child = look._child
    del look  # the child's write fails and it exits; it is reaped, not left a zombie
    if child is not None:
        with pytest.raises(ChildProcessError):
            os.waitpid(child[0], os.WNOHANG)


def test_map_indexed_equals_a_loop_across_processes() -> None:
    n = parallel.PARALLEL_MIN * 2
    assert map_indexed(lambda i: (i, i * i), n) == [(i, i * i) for i in range(n)]


def test_meanwhile_is_done_here_while_workers_work_and_only_then() -> None:
    done: list[int] = []
    n = parallel.PARALLEL_MIN * 2
    assert map_indexed(lambda i: i, n, meanwhile=lambda: done.append(os.getpid())) == \
        list(range(n))
    assert done == ([os.getpid()] if _forks() else [])
    done.clear()
    map_indexed(lambda i: i, 3, meanwhile=lambda: done.append(os.getpid()))
    assert done == []  # too few to spread: nothing runs meanwhile


def test_this_process_works_too_and_hands_results_out_in_order() -> None:
    """With two cores, one child is forked and this process does chunks as well: some
    results are made here, some there, and all come out in order."""
    if not _forks():
        pytest.skip("one core, or no fork: nothing is spread")
    here = os.getpid()
    n = parallel.PARALLEL_MIN * 2

    def slow(i: int) -> tuple[int, int]:  # (so that no process takes every chunk at once)
        time.sleep(0.0005)
        return i, os.getpid()

    found = map_indexed(slow, n)
    assert [i for i, _ in found] == list(range(n))
    where = {pid for _, pid in found}
    assert here in where and len(where) == parallel.cores()
    assert threading.active_count() == 1  # (the threads that read the children's results)


def test_a_childs_failure_is_worked_out_here() -> None:
    """A child that dies, cannot pickle what it made, or raises: its chunks are done again
    here, and an exception is raised here."""
    if not _forks():
        pytest.skip("one core, or no fork: nothing is spread")
    here, n = os.getpid(), parallel.PARALLEL_MIN * 4

    def dies(i: int) -> int:
        if os.getpid() != here and i % 50 == 7:
            os._exit(3)
        return i

    assert map_indexed(dies, n) == list(range(n))

    def unpicklable(i: int) -> object:
        return (lambda: i) if os.getpid() != here else i

    assert all(not callable(r) for r in map_indexed(unpicklable, n))

    def raises(i: int) -> int:
        if i == n - 3:
            raise KeyError(i)
        return i

    with pytest.raises(KeyError):
        map_indexed(raises, n)
    assert threading.active_count() == 1


def test_leaving_early_stops_the_children() -> None:
    if not _forks():
        pytest.skip("one core, or no fork: nothing is spread")
    before = _children()
    results = parallel.each_indexed(lambda i: i, parallel.PARALLEL_MIN * 50)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    assert len(_children() - before) == parallel.cores() - 1
    results.close()
    assert threading.active_count() == 1
    assert _children() == before  # (none left, not even a zombie)


def _children() -> set[int]:
    """This process's child processes, from /proc (Linux)."""
    if not os.path.isdir("/proc"):
        pytest.skip("needs /proc")
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == os.getpid():
                found.add(int(entry))
    return found
