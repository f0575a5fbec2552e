"""Preparation: scenarios, playbooks, crisis roles, checklists and pre-approved message templates."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from playbooks.choices import ApprovalState, Phase, PlaybookStatus, ScenarioType, TemplateKind


class Scenario(models.Model):
    """A kind of crisis the team has prepared for."""

    type = models.CharField(max_length=32, choices=ScenarioType.choices, unique=True)
    name = models.CharField(max_length=120)
    guidance = models.TextField(blank=True)
    engagement_approach = models.TextField(blank=True, help_text="How to engage in this scenario.")
    trigger_terms = models.JSONField(
        default=dict,
        blank=True,
        help_text='Terms per language, e.g. {"en": ["recall"], "tr": ["geri çağırma"]}.',
    )
    channels = models.JSONField(default=list, blank=True, help_text="Recommended response channels.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Playbook(models.Model):
    """The prepared response to one scenario. At most one active version per scenario."""

    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="playbooks")
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=PlaybookStatus.choices, default=PlaybookStatus.ACTIVE)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_versions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scenario__name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario"],
                condition=Q(status="active"),
                name="playbook_one_active_per_scenario",
            ),
        ]
        permissions = [("manage_playbooks", "Can create, edit, version and retire playbooks")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class CrisisRole(models.Model):
    """A role on the crisis team (incident lead, spokesperson, legal…). Assigned per incident."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=80)
    responsibilities = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["playbook", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["playbook", "name"], name="crisisrole_unique_name")]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(models.Model):
    """One step of a playbook, in a phase, owned by a crisis role, due some minutes after activation."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="checklist")
    phase = models.CharField(max_length=8, choices=Phase.choices, default=Phase.DURING)
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    role = models.ForeignKey(
        CrisisRole, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    due_offset_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Due this many minutes after the playbook is activated."
    )

    class Meta:
        ordering = ["playbook", "phase", "order"]

    def __str__(self) -> str:
        return self.title


class MessageTemplate(models.Model):
    """A pre-approved statement. Editing an approved one creates a new version in the same family."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="templates")
    family = models.UUIDField(default=uuid.uuid4, help_text="Shared by all versions of one template.")
    version = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=12, choices=TemplateKind.choices)
    channel = models.CharField(max_length=40, default="all", help_text="e.g. x, facebook, website, email.")
    language = models.CharField(max_length=8, default="en")
    title = models.CharField(max_length=160)
    body = models.TextField(help_text="Placeholders: {brand}, {issue}, {next_update}, …")
    approval_state = models.CharField(
        max_length=10, choices=ApprovalState.choices, default=ApprovalState.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playbook", "kind", "language", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="template_unique_version"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("author")),
                name="template_author_is_not_approver",
            ),
        ]
        permissions = [("approve_template", "Can approve message templates")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language}, v{self.version})"
