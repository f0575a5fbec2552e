"""Detection: rules over the 5-minute buckets → Signal rows.

``defaults`` (the rules a new watch starts with), ``evaluators`` (pure: a rule, a series, a moment
→ a breach or nothing), ``summary`` (what a responder reads first), ``selectors`` (reads),
``services`` (signals stored), ``backtest`` (where a rule would have fired; writes nothing).
"""
