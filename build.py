"""Build the site: python build.py [build|check|serve|new] (see README.md)."""

import os
import sys

from healthsite.cli import main

code = main()
# Everything is written and closed by now: leave without freeing a large site's objects one
# by one (about half a second at 10,000 articles).
for stream in (sys.stdout, sys.stderr):  # (None when started with the stream closed)
    if stream is not None:
        try:
            stream.flush()
        except OSError:  # a reader that went away, a full disk: already said if it matters
            pass
os._exit(code)
