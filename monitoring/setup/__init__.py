"""Setup: what the team monitors. Watches, their sources (one per connector kind) and their
detection rules: ``services`` (writes), ``selectors`` (reads), ``forms`` and ``views`` (the pages)."""
