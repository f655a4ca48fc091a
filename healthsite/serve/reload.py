"""The livereload side of the preview: python-livereload's Server with its routes replaced
(`PreviewServer`), its websocket and client script refusing other hosts and other sites'
pages, and the stock server, with a warning, on a livereload version this was not written
against. The pages themselves come from http.py's WSGI app."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from livereload import Server
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import web
from tornado.wsgi import WSGIContainer

from .http import CLIENT, Hosts
from .watch import Watcher

LIVERELOAD_KNOWN = ("2", "7")  # the python-livereload whose Server.application we replace
log = logging.getLogger("healthsite.serve")


class ReloadSocket(LiveReloadHandler):
    """livereload's websocket, for the preview's own pages only; frames that are not one of
    its JSON commands are ignored (its own handler logs a traceback for each)."""

    def initialize(self, hosts: Hosts) -> None:
        self.hosts = hosts

    def prepare(self) -> None:
        _refuse_strangers(self, self.hosts)

    def check_origin(self, origin: str) -> bool:
        return self.hosts.allows_origin(origin)

    def on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except (ValueError, RecursionError):  # (UnicodeDecodeError is a ValueError)
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("command"), str):
            log.debug("ignored a websocket frame that is not a livereload command")
            return
        super().on_message(message)


class ReloadClient(LiveReloadJSHandler):
    """livereload's client script, for the preview's own pages only."""

    def initialize(self, hosts: Hosts) -> None:
        self.hosts = hosts

    def prepare(self) -> None:
        _refuse_strangers(self, self.hosts)


def _refuse_strangers(handler: web.RequestHandler, hosts: Hosts) -> None:
    """Answer 421 to a request for another host, 403 to one from another site's page."""
    origin = handler.request.headers.get("Origin")
    if not hosts.allows_host(handler.request.headers.get("Host")):
        handler.set_status(421)
        message = hosts.refusal()
    elif origin is not None and not hosts.allows_origin(origin):
        handler.set_status(403)
        message = "This is only for the preview's own pages.\n"
    else:
        return
    handler.set_header("Content-Type", "text/plain; charset=utf-8")
    handler.finish(message)


class PreviewServer(Server):
    """livereload's Server with its routes replaced (its `application`, as of 2.7): the
    websocket and the client script check Host and Origin, there is no /forcereload (any
    site could reload the editor's browser), and the pages come from our WSGI app as it made
    them (it adds the client as a script file; livereload's own is an inline script)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], watcher: Watcher,
                 hosts: Hosts) -> None:
        super().__init__(app=app, watcher=watcher)
        self.hosts = hosts

    def _setup_logging(self) -> None:
        """livereload's own lines ("Serving on", "Browser Connected", "Reload 1 waiters")
        tell an editor nothing (the preview prints each rebuild's problems and summary
        instead): only its warnings and errors are printed."""
        super()._setup_logging()
        logging.getLogger("livereload").setLevel(logging.WARNING)

    def application(self, port: int, host: str, liveport: int | None = None,
                    debug: bool | None = None, live_css: bool = True) -> None:
        LiveReloadHandler.watcher = self.watcher
        LiveReloadHandler.live_css = live_css
        ours = {"hosts": self.hosts}
        web.Application([
            (r"/livereload", ReloadSocket, ours),
            (re.escape(CLIENT), ReloadClient, ours),
            (r".*", web.FallbackHandler, {"fallback": WSGIContainer(self.app)}),
        ]).listen(port, address=host)


def livereload_server(app: Callable[..., Iterable[bytes]], watcher: Watcher, hosts: Hosts,
                      version: str | None = None) -> Any:
    """PreviewServer when python-livereload is the version it was written against; its
    stock Server otherwise (pages still check Host and keep their CSP), with a warning."""
    version = version or importlib.metadata.version("livereload")
    if tuple(version.split(".")[:2]) == LIVERELOAD_KNOWN:
        return PreviewServer(app, watcher, hosts)
    print(f"warning: python-livereload {version} is not the {'.'.join(LIVERELOAD_KNOWN)} "
          "this preview was written for: using its stock server, whose websocket accepts "
          "any site and whose /forcereload any site can call", file=sys.stderr)
    return Server(app=app, watcher=watcher)

