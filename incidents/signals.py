"""Django signals other parts listen to (notifications, audit feeds).

``incident_event`` is sent *inside* the transaction that changed the incident, with
``incident``, ``event`` (opened, acknowledged, status:<new>, severity:<n>, escalated:<tier>) and
``actor``. Receivers that reach the outside world must defer it with ``transaction.on_commit``.
"""

from django.dispatch import Signal

incident_event = Signal()
