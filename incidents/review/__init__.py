"""After the crisis: the post-crisis review, its computed KPIs, its action items and its exports.

``kpis`` computes the facts, ``services`` writes, ``selectors`` reads, ``markdown`` escapes untrusted
text (generic), ``exports`` builds the Markdown document, ``views``/``forms`` are the pages.
"""
