"""An audit row read as a sentence: "maria-manager approved the draft “Holding statement”".

The stored action codes stay machine codes (filters and exports use them); this is only how the
audit browser says them. An action without a phrase here still reads, from its last word.
"""

from __future__ import annotations

from django.apps import apps

from crisisdesk.models import AuditRecord

# Whole codes whose meaning is not "<verb> the <object>".
_PHRASES = {
    "incident.opened": "opened {object}",
    "incident.owner": "changed the owner of {object}",
    "incident.severity": "changed the severity of {object}",
    "incident.severity_raised": "raised the severity of {object}",
    "incident.escalate": "escalated {object}",
    "incident.signal_attached": "attached a new signal to {object}",
    "incident.public_summary": "wrote the public summary of {object}",
    "incident.first_response": "recorded the first response on {object}",
    "incident.role.assigned": "assigned a crisis role on {object}",
    "incident.playbook.activated": "activated a playbook on {object}",
    "incident.archive.exported": "exported the archive of {object}",
    "draft.filled": "filled the placeholders of {object}",
    "draft.submitted": "submitted {object} for approval",
    "template.submitted": "submitted {object} for approval",
    "template.returned": "returned {object} for changes",
    "draft.returned": "returned {object} for changes",
    "template.new_version": "started a new version of {object}",
    "playbook.new_version": "started a new version of {object}",
    "signal.detected": "detected {object}",
    "source.health": "recorded a health change of {object}",
    "source.poll_requested": "asked for an immediate poll of {object}",
    "source.secret_rotated": "rotated the secret of {object}",
    "source.import_uploaded": "uploaded a file to import into {object}",
    "source.import_retried": "retried an import into {object}",
    "source.import": "imported mentions into {object}",
    "source.drill_started": "started the drill on {object}",
    "notification_channel.rotate_secret": "rotated the secret of {object}",
    "notification_channel.test": "sent a test through {object}",
    "notification_delivery.retry": "retried {object}",
    "team.member.add": "added {object} to the team",
    "team.member.role": "changed the role of {object}",
    "team.member.activate": "changed the access of {object}",
    "review.kpis_recomputed": "recomputed the KPIs of {object}",
    "scenario.library_merged": "merged library updates into {object}",
    "admin.added": "added {object} in the admin site",
    "admin.changed": "changed {object} in the admin site",
    "admin.deleted": "deleted {object} in the admin site",
}
# The last word of a code, as a past-tense verb.
_VERBS = {
    "created": "created",
    "create": "created",
    "added": "added",
    "add": "added",
    "updated": "edited",
    "update": "edited",
    "edited": "edited",
    "removed": "removed",
    "deleted": "deleted",
    "approved": "approved",
    "published": "published",
    "superseded": "superseded",
    "activated": "activated",
    "activate": "activated",
    "retired": "retired",
    "resumed": "resumed",
    "paused": "paused",
    "installed": "installed",
    "recorded": "recorded",
    "captured": "captured",
    "exported": "exported",
    "assigned": "assigned",
    "completed": "completed",
    "reopened": "reopened",
}


def object_noun(object_type: str) -> str:
    """``incidents.incident`` → "incident" (the model's verbose name; the raw label if unknown)."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def action_phrase(action: str, *, object_words: str) -> str:
    """The verb phrase of an action code, about ``object_words`` ("the incident")."""
    if action in _PHRASES:
        return _PHRASES[action].format(object=object_words)
    parts = action.split(".")
    if len(parts) == 3 and parts[1] == "status":  # incident.status.<to>
        return f"moved {object_words} to {parts[2].replace('_', ' ')}"
    last = parts[-1]
    return f"{_VERBS.get(last, last.replace('_', ' '))} {object_words}"


def audit_sentence(record: AuditRecord) -> str:
    """Who did what to which kind of object; the page shows the object's name beside it."""
    who = record.actor.get_username() if record.actor else "CrisisDesk"
    return f"{who} {action_phrase(record.action, object_words='the ' + object_noun(record.object_type))}"
