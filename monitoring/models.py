"""What the team watches (Watch, Source, Rule) and what it sees (Mention, Bucket, Signal)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone


class Watch(models.Model):
    """A brand or topic the team monitors."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    include_terms = models.JSONField(default=list, blank=True, help_text="Any of these terms matches.")
    exclude_terms = models.JSONField(default=list, blank=True, help_text="Mentions with these are dropped.")
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes; empty = any.")
    # {"mastodon": ["@acmeair@mastodon.social"], "bluesky": [...], "any": ["AcmeAir"]}: handles per
    # source kind ("any" for every kind). Their posts are ours (Mention.is_own), never chatter.
    own_accounts = models.JSONField(
        default=dict, blank=True, help_text="The brand's own account handles per platform."
    )
    default_scenario = models.ForeignKey(
        "playbooks.Scenario", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "watches"
        permissions = [("manage_monitoring", "Can manage watches, sources and detection rules")]

    def __str__(self) -> str:
        return self.name


class SourceKind(models.TextChoices):
    RSS = "rss", "RSS / Atom feed"
    MASTODON = "mastodon", "Mastodon hashtag timeline"
    HACKERNEWS = "hackernews", "Hacker News (Algolia)"
    BLUESKY = "bluesky", "Bluesky Jetstream"
    REDDIT = "reddit", "Reddit search"
    YOUTUBE = "youtube", "YouTube comment threads"
    WEBHOOK = "webhook", "Signed webhook"
    IMPORT = "import", "CSV / JSON import"
    DRILL = "drill", "Drill replay"


class SourceHealth(models.TextChoices):
    UNKNOWN = "unknown", "Not polled yet"
    OK = "ok", "Healthy"
    DEGRADED = "degraded", "Temporary errors"
    FAILING = "failing", "Failing"
    SILENT = "silent", "Silent"


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class Source(models.Model):
    """One connector instance feeding one watch."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    name = models.CharField(max_length=120)
    config = models.JSONField(default=dict, blank=True)
    secret = models.CharField(max_length=128, default=_new_secret, help_text="Webhook HMAC secret.")
    poll_interval = models.PositiveIntegerField(default=300, help_text="Seconds between polls.")
    cursor = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    health = models.CharField(max_length=12, choices=SourceHealth.choices, default=SourceHealth.UNKNOWN)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_mention_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now)
    # A poll claims the source until this moment so two workers never poll it at once.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["watch__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["watch", "name"], name="source_unique_name_per_watch"),
            # The target of Mention's composite foreign key (source_id, watch_id); see Mention.
            models.UniqueConstraint(fields=["id", "watch"], name="source_id_watch_key"),
            models.CheckConstraint(condition=Q(poll_interval__gte=5), name="source_poll_interval_min_5s"),
        ]
        indexes = [models.Index(fields=["is_active", "next_poll_at"], name="source_due_idx")]

    def __str__(self) -> str:
        return f"{self.watch.name} · {self.name}"

    @property
    def heartbeat_deadline(self) -> timedelta:
        """How long the source may stay without a successful poll before it counts as silent."""
        return timedelta(seconds=max(self.poll_interval * 3, 900))


class MentionState(models.TextChoices):
    NEW = "new", "New"
    SCORED = "scored", "Scored"


class SentimentLabel(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class Mention(models.Model):
    """One post, comment or article about a watch. Never deleted by a user."""

    # No single-column FK indexes: each FK leads a composite index below (unique (source, external_id),
    # (watch, -published_at), (incident, -published_at)), which serves the same lookups; every index
    # costs each ingest INSERT.
    # On PostgreSQL one composite foreign key (source_id, watch_id) → source (id, watch_id) replaces
    # the two single ones (migration 0003): one integrity check per inserted row instead of two, and
    # it also guarantees a mention's watch is its source's watch. SQLite keeps no database FK here.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="mentions", db_index=False, db_constraint=False
    )
    watch = models.ForeignKey(
        Watch, on_delete=models.PROTECT, related_name="mentions", db_index=False, db_constraint=False
    )
    external_id = models.CharField(max_length=255)
    url = models.URLField(max_length=2000, blank=True)
    author = models.CharField(max_length=255, blank=True)
    author_reach = models.PositiveBigIntegerField(default=0, help_text="Followers/subscribers.")
    engagement = models.PositiveBigIntegerField(default=0, help_text="Likes + shares + replies.")
    text = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    language_from_source = models.BooleanField(default=False)
    published_at = models.DateTimeField()
    fetched_at = models.DateTimeField(default=timezone.now)
    sentiment = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(max_length=8, choices=SentimentLabel.choices, blank=True)
    risk = models.FloatField(null=True, blank=True)
    crisis_terms = models.JSONField(default=list, blank=True)
    scenario_hint = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=8, choices=MentionState.choices, default=MentionState.NEW)
    scored_at = models.DateTimeField(null=True, blank=True)
    # Posted by one of the watch's own accounts (Watch.own_accounts), marked at ingest: our public
    # statement, never counted as chatter (buckets, rules, the response queue).
    is_own = models.BooleanField(default=False)
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentions",
        db_index=False,
    )
    raw = models.JSONField(default=dict, blank=True, help_text="The item as the source sent it.")

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="mention_unique_per_source"),
        ]
        indexes = [
            # Only the claim query and the sweeper look for state = 'new', and those rows are few:
            # a partial index stays tiny instead of holding every mention ever scored.
            models.Index(fields=["id"], condition=Q(state="new"), name="mention_new_idx"),
            models.Index(fields=["watch", "-published_at"], name="mention_watch_time_idx"),
            # The mention explorer's newest-first keyset pages across every watch: (published_at, id) < (…)
            # reads this index backwards from the cursor instead of sorting the table.
            models.Index(fields=["-published_at", "-id"], name="mention_time_idx"),
            # The explorer's author filter (case-insensitive): without it, finding one author's 20
            # posts among a million walks the whole time index.
            models.Index(Upper("author"), name="mention_author_idx"),
            # No (watch, sentiment_label, time) index: a label filter reads the watch's time range
            # (detection's windows are minutes long), and every index costs each ingest INSERT.
            # Most mentions never join an incident: only those that do are indexed.
            models.Index(
                fields=["incident", "-published_at"],
                condition=Q(incident__isnull=False),
                name="mention_incident_time_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author or 'anonymous'}: {self.text[:60]}"


class Bucket(models.Model):
    """Per-watch 5-minute counters that detection reads instead of scanning mentions."""

    WIDTH = timedelta(minutes=5)

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="buckets")
    start = models.DateTimeField()
    volume = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    reach = models.PositiveBigIntegerField(default=0)
    risk_sum = models.FloatField(default=0)
    risk_max = models.FloatField(default=0)
    crisis_term_hits = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["watch", "start"]
        constraints = [models.UniqueConstraint(fields=["watch", "start"], name="bucket_unique_per_watch")]

    def __str__(self) -> str:
        return f"{self.watch_id}@{self.start:%Y-%m-%d %H:%M} n={self.volume}"


class RuleKind(models.TextChoices):
    VOLUME_SPIKE = "volume_spike", "Volume spike"
    NEGATIVE_SPIKE = "negative_spike", "Negative share / count spike"
    HIGH_REACH_NEGATIVE = "high_reach_negative", "High-reach negative mention"
    CRISIS_TERMS = "crisis_terms", "Crisis-term hits"


class Sensitivity(models.TextChoices):
    FEWER = "fewer", "Fewer alerts"
    BALANCED = "balanced", "Balanced"
    MORE = "more", "More alerts"


class Severity(models.IntegerChoices):
    SEV1 = 1, "SEV1 · critical"
    SEV2 = 2, "SEV2 · major"
    SEV3 = 3, "SEV3 · moderate"
    SEV4 = 4, "SEV4 · minor"


class Rule(models.Model):
    """A detection rule on one watch."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=24, choices=RuleKind.choices)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    window_minutes = models.PositiveIntegerField(default=15, help_text="Length of the observed window.")
    baseline_hours = models.PositiveIntegerField(default=24, help_text="Trailing baseline length.")
    min_count = models.PositiveIntegerField(default=10, help_text="Never fire below this many mentions.")
    sensitivity = models.CharField(max_length=10, choices=Sensitivity.choices, default=Sensitivity.BALANCED)
    cooldown_minutes = models.PositiveIntegerField(default=60)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.SEV3)
    params = models.JSONField(default=dict, blank=True, help_text="Kind-specific thresholds.")
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["watch__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["watch", "name"], name="rule_unique_name_per_watch"),
            models.CheckConstraint(condition=Q(window_minutes__gte=5), name="rule_window_min_5"),
        ]

    def __str__(self) -> str:
        return f"{self.watch.name} · {self.name}"


class Signal(models.Model):
    """One rule breach: what was observed against what was expected, and the mentions behind it."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="signals")
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="signals")
    detected_at = models.DateTimeField(default=timezone.now)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    observed = models.FloatField()
    expected = models.FloatField()
    score = models.FloatField(default=0, help_text="Tail probability or z-score, per rule kind.")
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    summary = models.JSONField(
        default=dict, blank=True, help_text="Top terms, top authors, sample mentions, sentiment mix."
    )
    mentions = models.ManyToManyField(Mention, blank=True, related_name="signals")
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )
    reason = models.TextField(blank=True, help_text="Why it was grouped with its incident.")
    processed_at = models.DateTimeField(null=True, blank=True, help_text="Set once escalated.")

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            # Two detectors racing over the same window produce one signal.
            models.UniqueConstraint(fields=["rule", "window_start"], name="signal_unique_rule_window"),
        ]
        indexes = [
            models.Index(fields=["processed_at", "id"], name="signal_unprocessed_idx"),
            models.Index(fields=["watch", "-detected_at"], name="signal_watch_time_idx"),
            # The API's newest-first list across every watch reads this index instead of sorting
            # every signal (a sequential scan and a sort at 30,000 signals).
            models.Index(fields=["-detected_at", "-id"], name="signal_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} @ {self.window_start:%Y-%m-%d %H:%M}"
