"""Work handed to forked processes gives what doing it here gives, or is done here."""

from __future__ import annotations

import os
import threading

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
