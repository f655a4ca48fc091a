"""Stage 2, rendering: each article's Markdown made into HTML by Python-Markdown with our
own small processors (`markup.py`), untrusted HTML and SVG made safe (`sanitize.py`,
`svg.py`) within a time and nesting budget (`limits.py`), and its reading grade
(`readability.py`)."""
