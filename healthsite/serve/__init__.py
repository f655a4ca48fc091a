"""The editor's preview (`python build.py serve`): build into a temporary folder, watch the
sources, rebuild only what changed, reload the browser, and show every problem in the page
instead of stopping.

python-livereload serves the pages and talks to the browser; the rest is ours:

- preview.py: `Preview` (the site built into a private folder, with its latest problems)
  and `Builder` (rebuilds on a worker thread, one at a time, so the server keeps answering
  while a slow one runs);
- problems.py: `Report` (which page each problem concerns) and what the terminal prints
  after each rebuild (its problems as the command line prints them, and a summary line);
- panel.py: the problems in the page: the error overlay, and the panel on every page that
  counts the site's problems and lists them (open on a page they concern);
- search.py: `SearchIndex` (Pagefind run again in the background after a rebuild that
  changed pages, one run at a time; reloads never wait for it);
- watch.py: `Watcher` (watchfiles, that is inotify, instead of livereload's polling, which
  skips a reload when the previous one was under 3 s ago: fast successive saves would leave
  the first version on screen);
- http.py: the WSGI app that serves the pages, and `Hosts`: the preview answers only to its
  own addresses (a page on another site cannot read it by DNS rebinding, reach its websocket
  or reload it) and keeps the pages' Content-Security-Policy, loading its reload client as a
  same-origin script; with the overlay and the panel;
- reload.py: livereload's server with its routes replaced, and its own logging quiet
  (`PreviewServer`);
- this module: `serve()`, which puts them together and cleans up when stopped."""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from livereload.handlers import LiveReloadHandler

from .http import LOOPBACK, Hosts, make_app, resolve, with_reload
from .preview import Builder, Preview
from .problems import terminal_lines
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
        watcher = Watcher(preview, _reload(preview))
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
    say(preview)


def _reload(preview: Preview) -> Callable[[], None]:
    """What the server's loop does after each rebuild: print the rebuild's problems and
    summary, and reload the browsers."""

    def rebuilt() -> None:
        say(preview)
        LiveReloadHandler.reload_waiters("*")

    return rebuilt


def say(preview: Preview) -> None:
    """Print the latest rebuild's problems, as the command line prints them, their count
    and its summary line."""
    try:
        print("\n".join(terminal_lines(preview.report)), flush=True)
    except OSError:  # (a terminal gone away: the preview goes on)
        pass


def _close(*opened: Watcher | Preview | None) -> None:
    """Close what was opened, in this order (the watcher before the folder it rebuilds)."""
    for thing in opened:
        if thing is not None:
            thing.close()
