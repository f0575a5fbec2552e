from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditRecord(models.Model):
    """One state change anywhere in CrisisDesk. Append-only: never updated or deleted."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        permissions = [("manage_team", "Can manage team members and their access roles")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Audit records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit records are append-only.")


class LiveEvent(models.Model):
    """One change pushed to open pages: the outbox of the live stream.

    Written in the transaction of the change it announces, so a page never hears of a change that
    rolled back, and never misses one that committed: a reconnecting stream resumes after the last
    id it saw (``Last-Event-ID``). Pruned after a day (``crisisdesk.live.tasks``).
    """

    topic = models.CharField(max_length=40)  # "incident:<id>", "incidents" or "overview"
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["topic", "id"], name="live_event_topic_idx"),
            models.Index(fields=["at"], name="live_event_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.kind} #{self.pk}"


class LivePresence(models.Model):
    """Who has a page of a topic open now: the stream beats while the page is open."""

    topic = models.CharField(max_length=40)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_beat = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "member"], name="live_presence_one_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.topic}"


class MemberPreferences(models.Model):
    """A member's language and time zone; blank means "the team's default"."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    language = models.CharField(max_length=8, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.member_id}: {self.language or '-'} {self.time_zone or '-'}"


class TeamSettings(models.Model):
    """The team's defaults, set by an admin: one row (pk 1)."""

    language = models.CharField(max_length=8, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")

    def __str__(self) -> str:
        return f"team defaults: {self.language} {self.time_zone}"
