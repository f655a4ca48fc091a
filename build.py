"""Build the site: python build.py [build|check|serve|new] (see README.md)."""

import os
import sys

from healthsite.cli import main

code = main()
# Everything is written and closed by now: leave without freeing a large site's objects one
# by one (about half a second at 10,000 articles).
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
