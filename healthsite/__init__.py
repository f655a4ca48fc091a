"""healthsite: a static site generator for trustworthy health information."""

from __future__ import annotations

__version__ = "0.1.0"
