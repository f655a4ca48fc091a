"""Stage 5, the checks: the editorial checks of every article (sources, review dates,
readability, alarm symptoms in care cards) and the check of every output page for
resources from other sites (`checks.py`)."""
