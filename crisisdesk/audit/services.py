"""Writing the append-only audit trail: who changed what, when, with the state before and after.

Every write service calls these inside its own transaction, so an audit row exists exactly when
the change it records does. ``actor``/``by`` None is the system (a task, a command, the installer).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from crisisdesk.models import AuditRecord
from crisisdesk.types import Member


def audit_record(
    *,
    actor: Member | None,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditRecord:
    """Write one audit row. Call it inside the same transaction as the change it records."""
    return AuditRecord.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        object_repr=str(target)[:200],
        before=before or {},
        after=after or {},
    )


def audited_update(
    *,
    instance: models.Model,
    by: Member | None,
    action: str,
    changes: dict[str, Any],
    audit_fields: list[str] | None = None,
    extra_after: dict[str, Any] | None = None,
) -> AuditRecord:
    """Set ``changes`` on ``instance``, save only those fields, and write the audit row.

    ``audit_fields`` (default: the changed fields) are snapshotted before and after; ``extra_after``
    adds context to the after-state (a note, a reason). Call inside the transaction of the change,
    on a row the caller has locked where writers race.
    """
    fields = audit_fields or list(changes)
    before = snapshot(instance, fields)
    for name, value in changes.items():
        setattr(instance, name, value)
    update_fields = list(changes)
    if (
        any(field.name == "updated_at" for field in instance._meta.concrete_fields)
        and "updated_at" not in changes
    ):
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    return audit_record(
        actor=by,
        action=action,
        target=instance,
        before=before,
        after={**snapshot(instance, fields), **(extra_after or {})},
    )


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The JSON-safe values of ``fields`` on ``instance``, for an audit row's before/after."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, models.Model):
            value = value.pk
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        values[name] = value
    return values
