"""Response: incidents, their timeline, tasks, drafts, evidence, replies, review and notifications."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from monitoring.models import Severity
from playbooks.models import Phase, TemplateKind


class Status(models.TextChoices):
    DETECTED = "detected", "Detected"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESPONDING = "responding", "Responding"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


# An incident is "open" until it is resolved: new signals for its watch attach to it.
OPEN_STATUSES = (Status.DETECTED, Status.ACKNOWLEDGED, Status.RESPONDING, Status.MONITORING)


def first_response_minutes_default() -> int:
    """A new incident's first-response target: ``settings.FIRST_RESPONSE_MINUTES`` (managers change it per incident)."""
    return settings.FIRST_RESPONSE_MINUTES


class Incident(models.Model):
    title = models.CharField(max_length=200)
    watch = models.ForeignKey("monitoring.Watch", on_delete=models.PROTECT, related_name="incidents")
    scenario = models.ForeignKey(
        "playbooks.Scenario", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    scenario_hint = models.CharField(max_length=32, blank=True, help_text="Suggested by scoring.")
    playbook = models.ForeignKey(
        "playbooks.Playbook", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.SEV3)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.DETECTED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_incidents",
    )
    summary = models.TextField(blank=True)
    # What the public would call the issue, written by a person: the only source of the {issue}
    # placeholder in public copy (the title is internal and often a rule's wording).
    public_summary = models.CharField(
        max_length=300, blank=True, help_text="The issue as the public would name it, for public statements."
    )
    first_signal_at = models.DateTimeField(null=True, blank=True, help_text="Earliest pre-crisis signal.")
    detected_at = models.DateTimeField(default=timezone.now)
    # The crisis start (lifecycle.timeline.crisis_start_from) stored when the incident opens: while
    # the incident is open, every mention of its watch published since then is attached to it at
    # ingest (monitoring.intake.ingest), without reading the timeline per batch.
    owns_mentions_from = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responding_at = models.DateTimeField(null=True, blank=True)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(
        default=first_response_minutes_default, help_text="Target for answering each negative mention."
    )
    escalation_tier = models.PositiveSmallIntegerField(default=1, help_text="Notification tier reached.")
    # The promised time of the next public update: set from the update that promised it, or by hand.
    next_update_due = models.DateTimeField(null=True, blank=True)
    # When the sweeper reminded the team that ``next_update_due`` passed; a new promise clears it.
    next_update_reminded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["watch"],
                condition=Q(status__in=["detected", "acknowledged", "responding", "monitoring"]),
                name="incident_one_open_per_watch",
            ),
        ]
        indexes = [
            models.Index(fields=["-detected_at", "-id"], name="incident_newest_idx"),
            models.Index(fields=["status", "-detected_at"], name="incident_status_time_idx"),
            models.Index(fields=["severity", "-detected_at"], name="incident_severity_time_idx"),
            models.Index(fields=["watch", "-detected_at"], name="incident_watch_time_idx"),
        ]
        permissions = [
            ("triage_incident", "Can acknowledge, assign and work incidents"),
            ("close_incident", "Can close incidents"),
            ("manage_notifications", "Can configure notification channels"),
            (
                "export_incident",
                "Can export an incident's archive (evidence, mentions) for audits and legal holds",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TimelineEvent(models.Model):
    """Append-only record of what happened, in the pre-crisis / during / post-crisis phases."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    phase = models.CharField(max_length=8, choices=Phase.choices)
    kind = models.CharField(max_length=40)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    mention = models.ForeignKey(
        "monitoring.Mention", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signal = models.ForeignKey(
        "monitoring.Signal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    links = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"], name="timeline_incident_at_idx")]

    def __str__(self) -> str:
        return f"[{self.phase}] {self.kind}: {self.text[:60]}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Timeline events are append-only.")
        super().save(*args, **kwargs)


class RoleAssignment(models.Model):
    """A team member holding a crisis role on one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    crisis_role = models.ForeignKey(
        "playbooks.CrisisRole", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role_name = models.CharField(max_length=80, help_text="Snapshot of the role's name.")
    responsibilities = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crisis_roles",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "role_name"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "role_name"], name="assignment_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.role_name}: {self.user or 'unassigned'}"


class Task(models.Model):
    """A checklist item snapshotted into an incident when its playbook was activated."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    checklist_item = models.ForeignKey(
        "playbooks.ChecklistItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    phase = models.CharField(max_length=8, choices=Phase.choices, default=Phase.DURING)
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    role_name = models.CharField(max_length=80, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["incident", "phase", "order", "id"]
        indexes = [models.Index(fields=["incident", "completed_at"], name="task_incident_open_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.completed_at is None and self.due_at is not None and self.due_at < timezone.now()


class DraftStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"


class Draft(models.Model):
    """A message being prepared for an incident: draft → in review → approved → published."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="drafts")
    template = models.ForeignKey(
        "playbooks.MessageTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_version = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=TemplateKind.choices, default=TemplateKind.UPDATE)
    channel = models.CharField(max_length=40, default="all")
    language = models.CharField(max_length=8, default="en")
    title = models.CharField(max_length=160, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=DraftStatus.choices, default=DraftStatus.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_channel = models.CharField(max_length=40, blank=True)
    published_url = models.URLField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["incident", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approver__isnull=True) | ~Q(approver=models.F("author")),
                name="draft_author_is_not_approver",
            ),
        ]
        permissions = [("approve_draft", "Can approve drafts for publishing")]

    def __str__(self) -> str:
        return self.title or self.body[:60]


class Evidence(models.Model):
    """An immutable snapshot of a mention, with the SHA-256 of its captured content."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="evidence")
    mention = models.ForeignKey("monitoring.Mention", null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    author = models.CharField(max_length=255, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(default=timezone.now)
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sha256 = models.CharField(max_length=64)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["incident", "captured_at"]
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(fields=["incident", "sha256"], name="evidence_unique_per_incident"),
        ]

    def __str__(self) -> str:
        return f"evidence {self.sha256[:12]}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Evidence is immutable.")
        super().save(*args, **kwargs)


class Reply(models.Model):
    """A public answer to a mention in the response queue. Mentions are never hidden or deleted."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="replies")
    mention = models.ForeignKey("monitoring.Mention", on_delete=models.PROTECT, related_name="replies")
    text = models.TextField(blank=True)
    url = models.URLField(max_length=2000, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["replied_at"]
        verbose_name_plural = "replies"
        constraints = [
            models.CheckConstraint(condition=~Q(text="") | ~Q(url=""), name="reply_has_text_or_link"),
        ]
        indexes = [models.Index(fields=["incident", "mention"], name="reply_incident_mention_idx")]

    def __str__(self) -> str:
        return f"reply to {self.mention_id}"


class Review(models.Model):
    """The post-crisis review. KPIs are computed from the timeline and stored when saved."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="review")
    summary = models.TextField()
    went_well = models.TextField(blank=True)
    went_badly = models.TextField(blank=True)
    lessons = models.TextField(blank=True)
    kpis = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Review of {self.incident}"


class ActionItem(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    playbook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The playbook this action item asks to change.",
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review", "id"]

    def __str__(self) -> str:
        return self.text


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack incoming webhook"
    TEAMS = "teams", "Microsoft Teams incoming webhook"
    WEBHOOK = "webhook", "Signed JSON webhook"
    # The system's own channel per dark site: its deliveries are emails to the site's subscribers.
    SUBSCRIBERS = "subscribers", "Dark-site email subscribers"


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class NotificationChannel(models.Model):
    """Where the team is told. Routed by minimum severity, watches and escalation tier."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=11, choices=ChannelKind.choices)
    config = models.JSONField(default=dict, blank=True, help_text="Addresses or webhook URL.")
    secret = models.CharField(max_length=128, default=_new_secret)
    min_severity = models.PositiveSmallIntegerField(
        choices=Severity.choices, default=Severity.SEV4, help_text="Notify for this severity or worse."
    )
    watches = models.ManyToManyField("monitoring.Watch", blank=True, help_text="Empty means every watch.")
    tier = models.PositiveSmallIntegerField(default=1, help_text="1 = first responders; 2+ = escalation.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["tier", "name"]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NotificationDelivery(models.Model):
    """One message to one channel about one incident event, with its retries."""

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60, help_text="e.g. opened, escalated-tier-2, severity-1.")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "notification deliveries"
        constraints = [
            models.UniqueConstraint(fields=["channel", "incident", "event"], name="delivery_unique_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel}"


class IncidentView(models.Model):
    """When a member last opened an incident: the page's "since you last looked" starts there.

    A read receipt, not a change to the incident: written on every visit, never audited.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "member"], name="incident_view_one_per_member")
        ]

    def __str__(self) -> str:
        return f"#{self.incident_id} seen by {self.member_id} at {self.seen_at:%Y-%m-%d %H:%M}"


# --- The public face: a dark site per watch ------------------------------------------------------


class DarkSiteState(models.TextChoices):
    DARK = "dark", "Dark"
    LIVE = "live", "Live"
    RESOLVED = "resolved", "Resolved"


class DarkSite(models.Model):
    """A watch's public status page, prepared before any crisis and switched on for an incident.

    ``dark``: 404 to the public, previewable by the team. ``live``: shows ``incident``'s published
    updates. ``resolved``: switched off again, shows a resolved notice above the same history.
    ``version`` grows with every public change; public pages are cached under it
    (``incidents.publishing.public``), so a publish is visible at once and a cached hit never reads
    the database.
    """

    watch = models.OneToOneField("monitoring.Watch", on_delete=models.PROTECT, related_name="dark_site")
    slug = models.SlugField(max_length=60, unique=True, help_text="The public address: /status/<slug>/.")
    logo = models.TextField(blank=True, help_text="A data: URI (the strict CSP allows no other hosts).")
    state = models.CharField(max_length=8, choices=DarkSiteState.choices, default=DarkSiteState.DARK)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="dark_sites"
    )
    went_live_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="dark") | Q(incident__isnull=False), name="darksite_public_has_incident"
            ),
        ]
        permissions = [("switch_darksite", "Can prepare dark sites and switch them on and off")]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_public(self) -> bool:
        return self.state != DarkSiteState.DARK


class DarkSiteContent(models.Model):
    """The prepared words of a dark site in one language: title, background, FAQ and contacts."""

    site = models.ForeignKey(DarkSite, on_delete=models.CASCADE, related_name="contents")
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=160)
    background = models.TextField(blank=True)
    # [{"question": "...", "answer": "..."}, ...] in the order shown.
    faq = models.JSONField(default=list, blank=True)
    press_contact = models.CharField(max_length=300, blank=True)
    customer_contact = models.CharField(max_length=300, blank=True)
    resolved_notice = models.TextField(blank=True, help_text="Shown once the site is switched off.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site", "language"]
        constraints = [
            models.UniqueConstraint(fields=["site", "language"], name="darksite_content_one_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.site} [{self.language}]"


class PublicUpdate(models.Model):
    """Words published on a dark site: append-only (a PostgreSQL trigger refuses UPDATE and DELETE).

    The approval ledger (author, approver, times) stays on ``draft``; nothing here names a member.
    A translation points at the update it translates; a correction is a new update that ``corrects``
    an earlier one and says what changed in ``change_note``.
    """

    site = models.ForeignKey(DarkSite, on_delete=models.PROTECT, related_name="updates")
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="public_updates")
    draft = models.OneToOneField(Draft, on_delete=models.PROTECT, related_name="public_update")
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=160, blank=True)
    body = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)
    translation_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="translations"
    )
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    change_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["translation_of", "language"],
                condition=Q(translation_of__isnull=False),
                name="publicupdate_one_translation_per_language",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(change_note=""),
                name="publicupdate_correction_says_why",
            ),
        ]
        indexes = [models.Index(fields=["site", "incident", "-published_at"], name="publicupdate_site_idx")]

    def __str__(self) -> str:
        return self.title or self.body[:60]

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Published updates are append-only: publish a correction instead.")
        super().save(*args, **kwargs)


class SubscriberState(models.TextChoices):
    PENDING = "pending", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class Subscriber(models.Model):
    """An email address that asked for a dark site's updates (double opt-in: pending → confirmed).

    Never shown publicly and never named in an answer to the public (no enumeration); ``__str__``
    leaves the address out so audit rows do not copy it.
    """

    site = models.ForeignKey(DarkSite, on_delete=models.PROTECT, related_name="subscribers")
    email = models.EmailField(max_length=254)
    language = models.CharField(max_length=8)
    state = models.CharField(max_length=12, choices=SubscriberState.choices, default=SubscriberState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["site", "id"]
        constraints = [models.UniqueConstraint(fields=["site", "email"], name="subscriber_once_per_site")]
        indexes = [models.Index(fields=["site", "state"], name="subscriber_site_state_idx")]

    def __str__(self) -> str:
        return f"subscriber #{self.pk}"
