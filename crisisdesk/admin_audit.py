"""Django admin's rules: every change it makes is audited, and append-only records stay read-only.

Django admin writes rows directly, around the services that would audit a change and refuse a bad
one. So every ``ModelAdmin`` registered in CrisisDesk derives from ``AuditedAdmin``: an add, a
change (including inline rows and a password change) or a delete through admin writes an
``AuditRecord`` (``admin.added`` / ``admin.changed`` / ``admin.deleted``, actor = the signed-in
member, the changed fields' values before and after) in the transaction of the change.
``AppendOnlyAdmin`` is for records that are evidence of what happened (mentions, evidence, the
timeline, the audit trail, the delivery log): anyone may read them, nobody may add, change or delete
them here. tests/security/test_admin.py walks ``admin.site`` to hold every registration to this.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest

from crisisdesk.audit.services import audit_record
from crisisdesk.types import Member

# Never copied into an audit row: credentials and their hashes.
AUDIT_EXCLUDED_FIELDS = frozenset({"password", "secret"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)  # UUID, Decimal, …


def field_values(obj: models.Model, names: list[str]) -> dict[str, Any]:
    """The JSON-safe values of ``names`` on ``obj`` (many-to-many as sorted ids), secrets left out."""
    values: dict[str, Any] = {}
    for name in names:
        if name in AUDIT_EXCLUDED_FIELDS:
            continue
        field = obj._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(getattr(obj, name).values_list("pk", flat=True)) if obj.pk else []
        else:
            values[name] = _jsonable(
                getattr(obj, getattr(field, "attname", name) if field.is_relation else name)
            )
    return values


def _model_fields(obj: models.Model) -> list[str]:
    return [
        f.name
        for f in obj._meta.get_fields()
        if (f.concrete or f.many_to_many) and not f.auto_created and f.name not in AUDIT_EXCLUDED_FIELDS
    ]


def _changed_fields(obj: models.Model, changed_data: list[str]) -> list[str]:
    names = set(_model_fields(obj))
    return [name for name in changed_data if name in names]


def _message(message: Any) -> Any:
    """The admin's change message as JSON (Django passes a list of dicts or a plain string)."""
    if isinstance(message, str):
        try:
            return json.loads(message)
        except ValueError:
            return message
    return _jsonable(message)


def _actor(request: HttpRequest) -> Member | None:
    """The signed-in member behind an admin request (admin pages are never anonymous)."""
    user = request.user
    return user if isinstance(user, Member) and user.is_authenticated else None


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose every add, change and delete writes an audit row in the same transaction."""

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        if change and obj.pk is not None:
            # The form already set the new values on ``obj``: the row still holds the old ones.
            fields = _changed_fields(obj, list(form.changed_data))
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            # Carried on the instance from save_model to log_change, which Django calls with it.
            before = field_values(stored, fields) if stored is not None else {}
            setattr(obj, "_admin_audit", (fields, before))  # noqa: B010
        super().save_model(request, obj, form, change)

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        audit_record(
            actor=_actor(request),
            action="admin.added",
            target=obj,
            after={**field_values(obj, _model_fields(obj)), "admin": _message(message)},
        )
        return entry

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        if message:  # Django logs a save that changed nothing too: that is no change to audit
            fields, before = getattr(obj, "_admin_audit", ([], {}))
            audit_record(
                actor=_actor(request),
                action="admin.changed",
                target=obj,
                before=before,
                after={**field_values(obj, fields), "admin": _message(message)},
            )
        return entry

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        with transaction.atomic():
            self._audit_deletion(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        # The "delete selected" action runs outside the admin's transaction: make audit + delete one.
        with transaction.atomic():
            for obj in queryset:
                self._audit_deletion(request, obj)
            super().delete_queryset(request, queryset)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Inline rows: one audit row per row added, changed or deleted."""
        for inline_form in formset.deleted_forms:
            if inline_form.instance.pk is not None:
                self._audit_deletion(request, inline_form.instance)
        before: dict[Any, dict[str, Any]] = {}
        for inline_form in formset.initial_forms:
            instance = inline_form.instance
            if (
                instance.pk is not None
                and inline_form.has_changed()
                and inline_form not in formset.deleted_forms
            ):
                stored = type(instance)._default_manager.filter(pk=instance.pk).first()
                if stored is not None:
                    before[instance.pk] = field_values(
                        stored, _changed_fields(stored, inline_form.changed_data)
                    )
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit_record(
                actor=_actor(request),
                action="admin.added",
                target=obj,
                after=field_values(obj, _model_fields(obj)),
            )
        for obj, changed in formset.changed_objects:
            fields = _changed_fields(obj, list(changed))
            audit_record(
                actor=_actor(request),
                action="admin.changed",
                target=obj,
                before=before.get(obj.pk, {}),
                after=field_values(obj, fields),
            )

    def _audit_deletion(self, request: HttpRequest, obj: models.Model) -> None:
        audit_record(
            actor=_actor(request),
            action="admin.deleted",
            target=obj,
            before=field_values(obj, _model_fields(obj)),
        )


class AppendOnlyAdmin(AuditedAdmin):
    """A record of what happened: readable in admin (with the view permission), never added, changed
    or deleted here. Related objects whose deletion would cascade to it cannot be deleted either
    (admin asks this class before deleting them)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
