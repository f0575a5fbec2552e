"""Setup reads for the watch, source and rule pages: each returns what one page needs in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import OPEN_STATUSES, Incident
from monitoring.intake.buckets import WIDTH, bucket_range, bucket_start
from monitoring.models import Bucket, Mention, Rule, Source, SourceHealth, Watch

# Worst first: a dead feed must be the first thing on the sources page.
HEALTH_ORDER = [
    SourceHealth.FAILING,
    SourceHealth.SILENT,
    SourceHealth.DEGRADED,
    SourceHealth.UNKNOWN,
    SourceHealth.OK,
]
PROBLEM_HEALTH = {SourceHealth.FAILING, SourceHealth.SILENT, SourceHealth.DEGRADED}

if TYPE_CHECKING:
    # What the list pages read off each row besides the columns: the selectors below set these
    # on the instances. Only the type checker sees these classes (at run time they would be models).

    class ListedWatch(Watch):
        volume_24h: int
        negative_24h: int
        negative_share: float | None
        health_counts: dict[str, int]
        source_count: int
        problem_sources: int
        open_incident: Incident | None

    class ListedSource(Source):
        health_rank: int
        is_problem: bool


def watch_bucket_sum(field: str, since: datetime) -> Coalesce:
    """An annotation: the watch's ``field`` summed over its buckets from ``since`` (0 when none)."""
    rows = (
        Bucket.objects.filter(watch=OuterRef("pk"), start__gte=since)
        .order_by()
        .values("watch")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def watch_list(*, now: datetime | None = None) -> list[ListedWatch]:
    """Every watch with its last-24-hour volume and negative share, open incident and source health.

    Three queries however many watches: watches with subquery annotations, then source health
    counts, then open incidents.
    """
    now = now or timezone.now()
    since = bucket_start(now - timedelta(hours=24))
    watches = cast(
        "list[ListedWatch]",
        list(
            Watch.objects.select_related("default_scenario").annotate(
                volume_24h=watch_bucket_sum("volume", since),
                negative_24h=watch_bucket_sum("negative", since),
            )
        ),
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for watch_id, health, active in Source.objects.order_by().values_list("watch_id", "health", "is_active"):
        counts[watch_id]["paused" if not active else health] += 1
    open_incidents = {
        incident.watch_id: incident
        for incident in Incident.objects.filter(status__in=OPEN_STATUSES).only(
            "id", "watch_id", "title", "severity", "status"
        )
    }
    for watch in watches:
        watch.negative_share = (watch.negative_24h / watch.volume_24h) if watch.volume_24h else None
        watch.health_counts = dict(counts.get(watch.pk, {}))
        watch.source_count = sum(watch.health_counts.values())
        watch.problem_sources = sum(
            n for health, n in watch.health_counts.items() if health in PROBLEM_HEALTH
        )
        watch.open_incident = open_incidents.get(watch.pk)
    return watches


def watch_get(pk: int) -> Watch:
    return Watch.objects.select_related("default_scenario").get(pk=pk)


def watch_volume_series(
    *, watch: Watch, hours: int = 24, now: datetime | None = None
) -> dict[str, list[Any]]:
    """5-minute volume and negative counts for the chart (missing buckets are zeros), JSON-ready."""
    now = now or timezone.now()
    start = bucket_start(now - timedelta(hours=hours))
    end = bucket_start(now) + WIDTH
    rows = {
        b_start: (volume, negative)
        for b_start, volume, negative in Bucket.objects.filter(watch=watch, start__gte=start, start__lt=end)
        .order_by("start")
        .values_list("start", "volume", "negative")
    }
    labels, volume, negative = [], [], []
    for moment in bucket_range(start, end):
        v, n = rows.get(moment, (0, 0))
        labels.append(timezone.localtime(moment).strftime("%H:%M"))
        volume.append(v)
        negative.append(n)
    return {"labels": labels, "volume": volume, "negative": negative}


def watch_sources(watch: Watch) -> QuerySet[Source]:
    return watch.sources.order_by("name")


def watch_rules(watch: Watch) -> QuerySet[Rule]:
    return watch.rules.order_by("name")


def watch_recent_mentions(watch: Watch, *, limit: int = 10) -> list[Mention]:
    return list(
        Mention.objects.filter(watch=watch).select_related("source").order_by("-published_at", "-id")[:limit]
    )


def watch_open_incident(watch: Watch) -> Incident | None:
    return Incident.objects.filter(watch=watch, status__in=OPEN_STATUSES).first()


def source_list(*, watch_id: int | None = None) -> list[ListedSource]:
    """Every source, the unhealthy ones first, with ``is_problem`` set for the page to flag them."""
    health_rank = Case(
        *[When(health=health, then=Value(rank)) for rank, health in enumerate(HEALTH_ORDER)],
        default=Value(len(HEALTH_ORDER)),
        output_field=IntegerField(),
    )
    sources = Source.objects.select_related("watch").annotate(
        health_rank=Case(When(is_active=False, then=Value(len(HEALTH_ORDER) + 1)), default=health_rank)
    )
    if watch_id is not None:
        sources = sources.filter(watch_id=watch_id)
    rows = cast(
        "list[ListedSource]",
        list(sources.order_by("health_rank", "watch__name", "name").defer("cursor", "config")),
    )
    for source in rows:
        source.is_problem = source.is_active and source.health in PROBLEM_HEALTH
    return rows


def source_get(pk: int) -> Source:
    return Source.objects.select_related("watch").get(pk=pk)


def rule_get(pk: int) -> Rule:
    return Rule.objects.select_related("watch").get(pk=pk)
