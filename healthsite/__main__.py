"""`python -m healthsite ...`: the same as the `healthsite` command."""

from .cli import main

raise SystemExit(main())
