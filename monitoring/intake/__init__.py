"""Intake: what sources deliver becomes stored, scored and counted mentions.

``normalise`` (strangers' text made safe), ``ingest`` (store + score + count, the one path every
source takes), ``buckets`` (the 5-minute counters), ``overlap`` (the helper thread ingest prepares
chunks in), ``polling`` (pull sources and source health), ``webhook`` (the signed push: what it
accepts) and ``imports`` (CSV/JSON exports).
"""
