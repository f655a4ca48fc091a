"""The incremental layer: what builds keep for the next one and how it is reused, apart
from the stages, which know nothing of it. `memo.py` runs each stage with its memo (its
docstring has the table of every cache and what its key covers); `cache.py` the stores on
disk and the engine's fingerprint; `keys.py` the graph's key; `pages.py` the page memo;
`snapshot.py` the record of the last written build (a build with nothing changed does
nothing); `delta.py` the changed-articles route (only articles' own text changed: only their
pages)."""
