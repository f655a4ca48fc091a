"""The editor's preview (`python build.py serve`): build into a temporary folder, watch the
sources, rebuild only what changed, reload the browser, and show every problem in the page
instead of stopping.

python-livereload serves the pages and talks to the browser; the rest is ours:

- preview.py: `Preview` (the site built into a private folder, with its latest problems)
  and `Builder` (rebuilds on a worker thread, one at a time, so the server keeps answering
  while a slow one runs);
- watch.py: `Watcher` (watchfiles, that is inotify, instead of livereload's polling, which
  skips a reload when the previous one was under 3 s ago: fast successive saves would leave
  the first version on screen);
- http.py: the WSGI app that serves the pages, and `Hosts`: the preview answers only to its
  own addresses (a page on another site cannot read it by DNS rebinding, reach its websocket
  or reload it) and keeps the pages' Content-Security-Policy, loading its reload client as a
  same-origin script; with the error overlay;
- reload.py: livereload's server with its routes replaced (`PreviewServer`);
- this module: `serve()`, which puts them together and cleans up when stopped."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path
from types import FrameType

from livereload.handlers import LiveReloadHandler

from .http import LOOPBACK, Hosts, make_app, resolve, with_reload
from .preview import Builder, Preview
from .reload import PreviewServer, livereload_server
from .watch import SETTLE_S, WATCHED, Watcher

__all__ = ["SETTLE_S", "WATCHED", "Builder", "Hosts", "Preview", "PreviewServer", "Watcher",
           "cannot_listen", "livereload_server", "make_app", "resolve", "serve", "with_reload"]


def cannot_listen(host: str, port: int) -> str:
    """Why the preview could not listen on `host` and `port` (an unknown host, an address
    this machine does not have, a port in use), or an empty string. Checked before the
    first build, so a mistake costs a line, not a build and a traceback."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except (OSError, UnicodeError) as e:
        return getattr(e, "strerror", None) or str(e)
    return ""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # as Ctrl+C: livereload stops its loop, serve() cleans up


class _Signals:
    """SIGTERM and SIGHUP (where there is one) stop the preview as Ctrl+C does, from when
    this is made; `ignore` while cleaning up, then `restore` the handlers there were."""

    def __init__(self) -> None:
        self.stops = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None))
                      if s is not None]
        self.previous = {s: signal.signal(s, _stop) for s in self.stops}

    def ignore(self) -> None:
        """From now on no signal stops the preview (a second Ctrl+C must not stop the
        cleaning up)."""
        for s in (*self.stops, signal.SIGINT):
            handler = signal.signal(s, signal.SIG_IGN)
            self.previous.setdefault(s, handler)

    def restore(self) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False) -> int:
    """Run the preview server until interrupted (Ctrl+C, SIGTERM or SIGHUP); the temporary
    folder goes with it."""
    why = cannot_listen(host, port)
    if why:
        return _say_cannot_listen(host, port, why)
    hosts = Hosts.bound_to(host, port)
    if host not in LOOPBACK:
        print(f"warning: serving on {host} makes the preview reachable from other machines; "
              f"it answers to {', '.join(sorted(hosts.names))} on port {port}",
              file=sys.stderr)
    signals = _Signals()
    preview: Preview | None = None
    watcher: Watcher | None = None
    try:
        preview = Preview(root, drafts)
        watcher = Watcher(preview, lambda: LiveReloadHandler.reload_waiters("*"))
        _first_build(preview, watcher)
        server = livereload_server(make_app(preview, hosts), watcher, hosts)
        print(f"Previewing {root} at http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
        server.serve(host=host, port=port, debug=False, restart_delay=0)
    except KeyboardInterrupt:
        pass
    except OSError as e:  # the port taken in the meantime
        return _say_cannot_listen(host, port, e.strerror or str(e))
    finally:
        signals.ignore()
        _close(watcher, preview)
        signals.restore()
    return 0


def _say_cannot_listen(host: str, port: int, why: str) -> int:
    """Say in one line why the preview cannot listen there: exit code 1."""
    print(f"healthsite serve: cannot listen on {host} port {port}: {why}", file=sys.stderr)
    return 1


def _first_build(preview: Preview, watcher: Watcher) -> None:
    """Start watching, which builds the site once it watches it; print its problems."""
    watcher.begin()
    watcher.wait_ready()
    watcher.builder.wait()
    for p in preview.problems:
        print(p.format())


def _close(*opened: Watcher | Preview | None) -> None:
    """Close what was opened, in this order (the watcher before the folder it rebuilds)."""
    for thing in opened:
        if thing is not None:
            thing.close()
