"""Reads for the overview. Every function costs a fixed number of queries, however many watches,
incidents or mentions there are (pinned by tests)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OrderBy, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from crisisdesk.roles import APPROVE_DRAFTS
from crisisdesk.types import Member
from incidents.models import OPEN_STATUSES, Draft, DraftStatus, Incident, Reply, RoleAssignment, Status, Task
from incidents.response.selectors import first_response_due, queue_condition
from monitoring.detection.learning import watch_learning_until
from monitoring.explorer.search import unindexed_time
from monitoring.models import Bucket, Mention, Rule
from monitoring.setup.selectors import watch_list

# "Close to the deadline": due within this much, or already late.
DEADLINE_WARNING = timedelta(minutes=15)
ITEMS_MAX = 10


@dataclass
class Spark:
    """One sparkline: a value per step, oldest first, and the baseline to draw it against."""

    values: list[float]
    baseline: float | None


@dataclass
class WatchState:
    watch_id: int
    name: str
    state: str  # "incident", "learning" or "calm"
    incident: Incident | None
    learning_until: datetime | None
    volume_24h: Spark
    negative_share_24h: Spark
    volume_7d: Spark
    negative_share_7d: Spark
    health_counts: dict[str, int]
    problem_sources: int
    source_count: int


def _series(
    hourly: dict[datetime, tuple[int, int]], end: datetime, *, hours: int, step: int
) -> tuple[Spark, Spark]:
    """Volume per step and negative share per step over ``hours`` up to ``end`` (exclusive), with
    the mean volume and the overall negative share as baselines."""
    volumes: list[float] = []
    shares: list[float] = []
    first = end - timedelta(hours=hours)
    for n in range(hours // step):
        start = first + timedelta(hours=n * step)
        volume = negative = 0
        for h in range(step):
            v, neg = hourly.get(start + timedelta(hours=h), (0, 0))
            volume, negative = volume + v, negative + neg
        volumes.append(float(volume))
        shares.append(negative / volume if volume else 0.0)
    total = sum(volumes)
    negatives = sum(s * v for s, v in zip(shares, volumes, strict=True))
    return (
        Spark(volumes, total / len(volumes) if volumes else None),
        Spark(shares, negatives / total if total else None),
    )


def watch_states(*, now: datetime | None = None) -> list[WatchState]:
    """Every active watch: calm, learning its baseline, or with an open incident (and its
    severity); 24-hour (hourly) and 7-day (6-hourly) sparklines of volume and negative share, and
    its sources' health. Five queries."""
    now = now or timezone.now()
    # The current hour is included: the last point of a sparkline is "now".
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    watches = [watch for watch in watch_list(now=now) if watch.is_active]
    hourly: dict[int, dict[datetime, tuple[int, int]]] = defaultdict(dict)
    rows = (
        # Named watches: the (watch, start) unique index then serves each watch's week, instead of
        # a scan of every watch's 90 days of buckets for the rows of the last seven.
        Bucket.objects.filter(
            watch_id__in=[watch.pk for watch in watches], start__gte=end - timedelta(days=7), start__lt=end
        )
        .annotate(hour=TruncHour("start"))
        .order_by()
        .values("watch_id", "hour")
        .annotate(volume=Sum("volume"), negative=Sum("negative"))
    )
    for row in rows:
        hourly[row["watch_id"]][row["hour"]] = (row["volume"], row["negative"])
    rules: dict[int, list[Rule]] = defaultdict(list)
    for rule in Rule.objects.filter(watch__is_active=True).only(
        "watch_id", "kind", "is_active", "baseline_hours", "created_at"
    ):
        rules[rule.watch_id].append(rule)
    states = []
    for watch in watches:
        volume_24h, share_24h = _series(hourly[watch.pk], end, hours=24, step=1)
        volume_7d, share_7d = _series(hourly[watch.pk], end, hours=24 * 7, step=6)
        learning = watch_learning_until(rules[watch.pk], watch.created_at)
        if watch.open_incident is not None:
            state = "incident"
        elif learning is not None and learning > now:
            state = "learning"
        else:
            state = "calm"
        states.append(
            WatchState(
                watch_id=watch.pk,
                name=watch.name,
                state=state,
                incident=watch.open_incident,
                learning_until=learning if learning is not None and learning > now else None,
                volume_24h=volume_24h,
                negative_share_24h=share_24h,
                volume_7d=volume_7d,
                negative_share_7d=share_7d,
                health_counts=watch.health_counts,
                problem_sources=watch.problem_sources,
                source_count=watch.source_count,
            )
        )
    # Incidents first (most severe first), then learning, then calm; by name within each.
    order = {"incident": 0, "learning": 1, "calm": 2}
    states.sort(key=lambda s: (order[s.state], s.incident.severity if s.incident else 9, s.name.lower()))
    return states


@dataclass
class DeadlineItem:
    mention: Mention
    incident: Incident
    due_at: datetime
    overdue: bool


@dataclass
class MyWork:
    """What waits for the signed-in member, each list capped at ``ITEMS_MAX`` with its full count."""

    unacknowledged: list[Incident] = field(default_factory=list)
    approvals: list[Draft] = field(default_factory=list)
    approvals_total: int = 0
    overdue_tasks: list[Task] = field(default_factory=list)
    overdue_tasks_total: int = 0
    deadlines: list[DeadlineItem] = field(default_factory=list)
    deadlines_total: int = 0

    @property
    def empty(self) -> bool:
        return not (self.unacknowledged or self.approvals or self.overdue_tasks or self.deadlines)


def drafts_awaiting_approval(member: Member) -> QuerySet[Draft]:
    """Drafts in review on open incidents that ``member`` may approve: someone else wrote them."""
    if not member.has_perm(APPROVE_DRAFTS):
        return Draft.objects.none()
    return (
        Draft.objects.filter(status=DraftStatus.IN_REVIEW, incident__status__in=OPEN_STATUSES)
        .exclude(author=member)
        .select_related("incident", "author")
        .order_by("submitted_at", "id")
    )


def overdue_tasks(member: Member, now: datetime) -> QuerySet[Task]:
    """Open tasks past due on open incidents that are ``member``'s: their crisis role is assigned to
    the member on that incident, or the member owns the incident and nobody holds the task's role."""
    holds_role = RoleAssignment.objects.filter(incident=OuterRef("incident"), role_name=OuterRef("role_name"))
    return (
        Task.objects.filter(completed_at__isnull=True, due_at__lt=now, incident__status__in=OPEN_STATUSES)
        .filter(
            Exists(holds_role.filter(user=member))
            | (Q(incident__owner=member) & ~Exists(holds_role.filter(user__isnull=False)))
        )
        .select_related("incident")
        .order_by("due_at", "id")
    )


def _deadline_mentions(incidents: list[Incident], now: datetime) -> QuerySet[Mention]:
    """Unanswered queue mentions of ``incidents`` whose first-response deadline is within
    ``DEADLINE_WARNING`` or past. The deadline is max(published, detected) + the incident's minutes,
    so each incident contributes one condition on ``published_at``; one query for all of them."""
    near: Q | None = None
    for incident in incidents:
        latest = now + DEADLINE_WARNING - timedelta(minutes=incident.first_response_minutes)
        if incident.detected_at > latest:
            continue  # nothing of this incident is due yet
        condition = Q(incident_id=incident.pk, published_at__lte=latest)
        near = condition if near is None else near | condition
    if near is None:
        return Mention.objects.none()
    replied = Exists(Reply.objects.filter(mention=OuterRef("pk"), incident=OuterRef("incident")))
    # Oldest first through an expression the time index cannot serve: ordered by published_at
    # itself, PostgreSQL walked the whole time index from 90 days ago for the first ten rows
    # (210 ms at a million mentions); this way it reads the incidents' own rows through their
    # index and sorts those few (see bench/pages.py).
    return (
        Mention.objects.filter(near, is_own=False)
        .filter(queue_condition())
        .exclude(replied)
        .order_by(OrderBy(unindexed_time()), "id")
    )


def my_work(member: Member, *, now: datetime | None = None) -> MyWork:
    """The member's "needs me now" lists. Seven queries, whatever the sizes."""
    now = now or timezone.now()
    work = MyWork()
    open_incidents = list(
        Incident.objects.filter(status__in=OPEN_STATUSES)
        .select_related("watch")
        .order_by("severity", "detected_at")
    )
    work.unacknowledged = [i for i in open_incidents if i.status == Status.DETECTED][:ITEMS_MAX]
    approvals = drafts_awaiting_approval(member)
    work.approvals = list(approvals[:ITEMS_MAX])
    work.approvals_total = len(work.approvals) if len(work.approvals) < ITEMS_MAX else approvals.count()
    tasks = overdue_tasks(member, now)
    work.overdue_tasks = list(tasks[:ITEMS_MAX])
    work.overdue_tasks_total = (
        len(work.overdue_tasks) if len(work.overdue_tasks) < ITEMS_MAX else tasks.count()
    )
    by_pk = {incident.pk: incident for incident in open_incidents}
    mentions = _deadline_mentions(open_incidents, now)
    for mention in mentions[:ITEMS_MAX]:
        assert mention.incident_id is not None  # the query keeps only the incidents' mentions
        incident = by_pk[mention.incident_id]
        due = first_response_due(incident, mention)
        work.deadlines.append(DeadlineItem(mention, incident, due, overdue=now > due))
    work.deadlines_total = len(work.deadlines) if len(work.deadlines) < ITEMS_MAX else mentions.count()
    return work
