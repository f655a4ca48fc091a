"""Stage 1, loading: site.yaml (`config.py`) and the front matter of every content file
(`frontmatter.py`) read against declared schemas (`schema.py`) by a strict YAML reader with
line and column for every value (`yamlio.py`), and the content files made into articles
(`content.py`)."""
