"""Notifications: tell the team about incidents over email, Slack, Teams and signed JSON webhooks.

``channels`` holds the plug-ins (one class per kind, registered in one dict), ``routing`` turns an
``incident_event`` into delivery rows (``receivers`` is the hook), ``delivery`` sends them with
retries, ``escalation`` raises unacknowledged incidents to the next tier, ``services`` manages
channels; ``selectors``, ``views`` and ``forms`` are the pages.
"""
