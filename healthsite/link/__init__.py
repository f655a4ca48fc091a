"""Stages 3 and 4, linking: the topic graph of articles, topics, links and backlinks, with
the checks of links, editor's picks and each article's place (`graph.py`); and "reading
next" for every article, explainable and bounded (`related.py`)."""
