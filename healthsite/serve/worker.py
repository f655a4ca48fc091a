"""One job run on a worker thread, one run at a time, for the preview's rebuilds and its
search index: asked while a run is under way, it runs exactly once more after it (what
asked may have come too late for the run under way), so a burst of requests costs two runs
at most, and asking never waits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("healthsite.serve")


class Coalescing:
    """Runs `job` in the background on request, one run at a time (see the module); `what`
    names it in the log if a run raises (the worker never dies and leaves it busy)."""

    def __init__(self, job: Callable[[], object], what: str) -> None:
        self._job, self._what = job, what
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._again = False
        self._closed = False
        self._idle = threading.Event()
        self._idle.set()

    def request(self) -> None:
        """Run the job now, or once more after the run under way."""
        with self._lock:
            if self._closed:
                return
            if self._worker is not None:
                self._again = True
                return
            self._idle.clear()
            self._worker = threading.Thread(target=self._run, name=f"healthsite-{self._what}",
                                            daemon=True)
            self._worker.start()

    def busy(self) -> bool:
        """Whether a run is under way or asked for."""
        with self._lock:
            return self._worker is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the runs asked for have all ended (within `timeout` seconds)."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 10) -> None:
        """Start no other run; wait (up to `timeout` seconds) for the one under way."""
        with self._lock:
            self._closed = True
            worker = self._worker
        if worker is not None:
            worker.join(timeout=timeout)

    def _run(self) -> None:
        again = True
        while again:
            try:
                self._job()
            except Exception:  # noqa: BLE001 (the worker must not die and leave it busy)
                log.exception("the preview's %s", self._what)
            with self._lock:
                again, self._again = self._again and not self._closed, False
                if not again:
                    self._worker = None
                    self._idle.set()
