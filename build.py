"""Build the site: python build.py [build|check|serve|new] (see README.md)."""

import sys

from healthsite.cli import main

sys.exit(main())
