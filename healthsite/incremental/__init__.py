"""The incremental layer: what builds keep for the next one, and the reuse of it."""
