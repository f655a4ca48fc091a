"""Bounds on the work one content file can cause: a time budget for rendering it, and where
its nesting is deepest when Python-Markdown's recursion gives up.

Python-Markdown is quadratic on some inputs (its issue #798: a paragraph of 30 KB of `[`
takes about a minute) and recursive in its list parser (a few hundred nested levels exceed
Python's recursion limit). Rather than guess every such shape, an article's rendering gets
a time budget; one that runs out is reported as `too-complex`, and the build goes on with
the other files. `bench/pathological.py` lists the shapes known and what each now costs.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


def _setting(text: str) -> tuple[float, str]:
    """The budget HEALTHSITE_RENDER_SECONDS asks for, and why it cannot be had (then the
    default)."""
    if not text.strip():
        return 5.0, ""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:  # (also not a number, or infinite)
        return 5.0, (f"HEALTHSITE_RENDER_SECONDS must be a number of seconds from 0 (no "
                     f"budget) to 3600, not '{text[:20]}'")
    return value, ""


# An 800-word article takes 2-3 ms to render, 2 MB of ordinary text under a second.
# HEALTHSITE_RENDER_SECONDS changes it (0: no budget, as bench/pathological.py measures);
# the command line refuses a value it cannot use (BAD_SETTING says why).
RENDER_SECONDS, BAD_SETTING = _setting(os.environ.get("HEALTHSITE_RENDER_SECONDS", ""))
NESTING_SHOWN = 40  # deeper than this is named in the message when rendering fails


class TooSlow(Exception):  # noqa: N818 (raised into the work that ran out of time)
    """The work ran past its time budget."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise `TooSlow` in the running code if the block takes longer than `seconds` of wall
    time. The caller's `except TooSlow` must enclose the `with` (the exception may arrive as
    the block ends). On the main thread a timer signal interrupts the block; on any other
    thread (the preview's builder) a timer thread sets an asynchronous exception on it.
    Either arrives between two Python instructions, so a single long call into C (one
    regular expression search) finishes first."""
    if seconds <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _by_signal(seconds):
            yield
    else:
        with _by_thread(seconds):
            yield


@contextmanager
def _by_signal(seconds: float) -> Iterator[None]:
    armed = True

    def ring(signum: int, frame: FrameType | None) -> None:
        if armed and _importing(frame):  # never inside an import: it would be half done
            signal.setitimer(signal.ITIMER_REAL, _AGAIN)
        elif armed:
            raise TooSlow

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_set_async_exc: Callable[[ctypes.c_ulong, object], int] = ctypes.pythonapi.PyThreadState_SetAsyncExc


@contextmanager
def _by_thread(seconds: float) -> Iterator[None]:
    ident = threading.get_ident()
    target = ctypes.c_ulong(ident)
    lock = threading.Lock()
    state = {"done": False, "rang": False}
    timers: list[threading.Timer] = []

    def ring() -> None:
        with lock:
            if state["done"]:
                return
            if _importing(sys._current_frames().get(ident)):  # try again in a moment
                start(_AGAIN)
                return
            state["rang"] = True
            _set_async_exc(target, ctypes.py_object(TooSlow))

    def start(after: float) -> None:
        timer = threading.Timer(after, ring)
        timer.daemon = True
        timers.append(timer)
        timer.start()

    start(seconds)
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            if state["rang"]:  # not delivered yet, perhaps: never let it out of here
                _set_async_exc(target, None)
        for timer in timers:
            timer.cancel()


_AGAIN = 0.01  # when the time ran out during an import: how soon to look again


def _importing(frame: FrameType | None) -> bool:
    """Whether the code at `frame` runs inside Python's import machinery (an exception
    there leaves a module half imported, and importlib may turn it into another error)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


_MARKERS = re.compile(r"(?:[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)|[ \t]*>[ \t]?)+")


def deepest(body: str) -> tuple[int, int]:
    """The line (counted from 0 in `body`) whose list and quotation nesting is deepest, and
    its depth: each list marker or `>` at the start of a line opens a level, and so does
    each four columns of indentation."""
    best = (0, 0)
    for i, line in enumerate(body.split("\n")):
        depth = _depth(line)
        if depth > best[1]:
            best = (i, depth)
    return best


def _depth(line: str) -> int:
    """A line's nesting depth (see `deepest`)."""
    indent = len(line) - len(line.lstrip(" \t"))
    if not indent and (not line or line[0] not in "-*+>0123456789"):
        return 0
    width = len(line[:indent].expandtabs(4))
    m = _MARKERS.match(line, indent)
    markers = len(re.findall(r"[-*+>]|\d{1,9}[.)]", m.group(0))) if m else 0
    return width // 4 + markers
