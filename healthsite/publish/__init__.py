"""Stage 7, publishing: the output folder written atomically, only ever inside a folder the
build owns (`output.py`), and the Pagefind search index (`search.py`)."""
