"""An incident's life: opened from a signal, moved through its statuses, given a severity and an owner.

``transitions`` is the status graph (imported by both ``services`` and ``selectors``), ``opening``
turns a signal into an incident (or attaches it to the open one), ``timeline`` writes and reads the
append-only timeline every other feature records its work on.
"""
