"""The preview's background runs (`serve.worker.Coalescing`: the rebuilds and the search
index): one run at a time, requests made during a run folded into one more run, a run that
raises logged without stopping the worker, nothing started after `close`."""

from __future__ import annotations

import logging
import threading

import pytest

from healthsite.serve.worker import Coalescing

WAIT = 10  # seconds: a bound for a hung test, never a measure of speed


class Job:
    """A job that counts its runs and their overlap, each run held until released."""

    def __init__(self, fail_first: bool = False) -> None:
        self.runs = 0
        self.running = 0
        self.most = 0
        self.fail_first = fail_first
        self.started = threading.Semaphore(0)
        self.go = threading.Semaphore(0)
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.runs += 1
            self.running += 1
            self.most = max(self.most, self.running)
            first = self.runs == 1
        self.started.release()
        try:
            assert self.go.acquire(timeout=WAIT)
            if first and self.fail_first:
                raise RuntimeError("the first run fails")
        finally:
            with self.lock:
                self.running -= 1


def _one_more_run(runs: Coalescing, job: Job) -> None:
    """Ask for a run on an idle worker: it starts at once, and ends when released."""
    runs.request()
    assert job.started.acquire(timeout=WAIT)
    job.go.release()
    assert runs.wait(WAIT) and not runs.busy()


def test_requests_during_a_run_become_one_more_run() -> None:
    job = Job()
    runs = Coalescing(job, "test")
    assert not runs.busy() and runs.wait(0)
    runs.request()
    assert job.started.acquire(timeout=WAIT)
    assert runs.busy() and not runs.wait(0.05)
    for _ in range(5):
        runs.request()
    job.go.release()  # the first run ends: one more starts for the five requests
    assert job.started.acquire(timeout=WAIT)
    job.go.release()
    assert runs.wait(WAIT) and not runs.busy()
    assert job.runs == 2 and job.most == 1
    _one_more_run(runs, job)  # idle again: a request starts a run at once
    assert job.runs == 3
    runs.close()


def test_many_threads_asking_never_run_it_twice_at_once() -> None:
    job = Job()
    runs = Coalescing(job, "test")
    stop = threading.Event()

    def release() -> None:  # lets each run end as soon as it starts
        while not stop.is_set():
            if job.started.acquire(timeout=0.01):
                job.go.release()

    releaser = threading.Thread(target=release)
    releaser.start()
    askers = [threading.Thread(target=lambda: [runs.request() for _ in range(200)])
              for _ in range(8)]
    for t in askers:
        t.start()
    for t in askers:
        t.join(WAIT)
    assert runs.wait(WAIT)
    stop.set()
    releaser.join(WAIT)
    assert job.most == 1 and 1 <= job.runs <= 1600
    runs.close()


def test_a_run_that_raises_is_logged_and_the_worker_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    job = Job(fail_first=True)
    runs = Coalescing(job, "rebuild")
    with caplog.at_level(logging.ERROR):
        runs.request()
        assert job.started.acquire(timeout=WAIT)
        job.go.release()
        assert runs.wait(WAIT) and not runs.busy()
    assert any("the preview's rebuild" in r.getMessage() and r.exc_info for r in caplog.records)
    _one_more_run(runs, job)
    assert job.runs == 2
    runs.close()


def test_close_waits_for_the_run_under_way_and_starts_no_other() -> None:
    job = Job()
    runs = Coalescing(job, "test")
    runs.request()
    assert job.started.acquire(timeout=WAIT)
    runs.request()  # (asked for again during the run: dropped by close)
    closing = threading.Thread(target=runs.close)
    closing.start()
    closing.join(0.1)
    assert closing.is_alive()  # waiting for the run under way
    job.go.release()
    closing.join(WAIT)
    assert not closing.is_alive() and runs.wait(WAIT)
    runs.request()
    assert not job.started.acquire(timeout=0.2)
    assert job.runs == 1 and not runs.busy()
