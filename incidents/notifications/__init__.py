"""Notifications: tell the team about incidents over email, Slack, Teams and signed JSON webhooks.

``channels`` holds the plug-ins, ``services`` the writes (routing, sending, escalation, channel
management), ``selectors`` the reads, ``receivers`` the ``incident_event`` hook.
"""
