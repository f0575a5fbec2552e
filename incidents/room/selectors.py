"""Reads for the top of the incident page. Each costs a fixed number of queries, however many
mentions (20,000) or timeline events (2,000) the incident holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Q, Subquery, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from crisisdesk.types import Member
from incidents.lifecycle.selectors import incident_mentions
from incidents.lifecycle.timeline import OWN_STATEMENT
from incidents.models import Incident, IncidentView, TimelineEvent
from monitoring.intake.buckets import WIDTH, bucket_start
from monitoring.models import Bucket, Mention, SentimentLabel, Signal
from playbooks.models import Phase

# The chart starts this long before the crisis began, so the calm before it shows.
CHART_LEAD = timedelta(hours=2)
# At most this many points: a long incident merges 5-minute buckets into wider steps.
CHART_POINTS_MAX = 600
BASELINE_SPAN = timedelta(days=7)
SHARE_WINDOW = timedelta(hours=1)
MARKERS_MAX = 200
TOP_N = 8
TIMELINE_PAGE = 20


@dataclass
class CrisisGlance:
    """The figures above the fold."""

    began: datetime
    mentions: int
    negative: int
    share_now: float | None  # negative share of the incident's mentions in the last hour
    share_baseline: float | None  # the watch's negative share in the week before the crisis
    mentions_last_hour: int


def crisis_glance(incident: Incident, *, began: datetime, now: datetime) -> CrisisGlance:
    """Mentions so far and the negative share now against the watch's own baseline. Two queries."""
    negative = Q(sentiment_label=SentimentLabel.NEGATIVE)
    recent = Q(published_at__gte=now - SHARE_WINDOW)
    counts = incident_mentions(incident).aggregate(
        total=Count("pk"),
        negative=Count("pk", filter=negative),
        recent=Count("pk", filter=recent),
        recent_negative=Count("pk", filter=recent & negative),
    )
    before = Bucket.objects.filter(
        watch_id=incident.watch_id,
        start__gte=bucket_start(began - BASELINE_SPAN),
        start__lt=bucket_start(began),
    ).aggregate(volume=Sum("volume"), negative=Sum("negative"))
    return CrisisGlance(
        began=began,
        mentions=counts["total"],
        negative=counts["negative"],
        share_now=counts["recent_negative"] / counts["recent"] if counts["recent"] else None,
        share_baseline=(before["negative"] or 0) / before["volume"] if before["volume"] else None,
        mentions_last_hour=counts["recent"],
    )


def _chart_end(incident: Incident, now: datetime) -> datetime:
    # A closed incident's chart ends a while after it resolved; an open one's at now.
    if incident.resolved_at is not None:
        return min(now, incident.resolved_at + CHART_LEAD)
    return now


def crisis_chart(incident: Incident, *, began: datetime, now: datetime) -> dict[str, Any]:
    """The chart's data for ``json_script``: volume, negative volume and mean/max risk per step
    from before the crisis began to now, the phases as time spans, and markers for signals, status
    changes and published statements. Three queries."""
    start = bucket_start(began - CHART_LEAD)
    end = bucket_start(_chart_end(incident, now)) + WIDTH
    buckets = (end - start) // WIDTH
    merge = max(1, -(-buckets // CHART_POINTS_MAX))  # ceil: buckets per plotted step
    step = WIDTH * merge
    points = -(-buckets // merge)
    volume = [0] * points
    negative = [0] * points
    risk_sum = [0.0] * points
    risk_max = [0.0] * points
    # No ordering: each row lands in its slot by time, and Bucket's default order (by the watch's
    # name) joined the watch and sorted up to 90 days of buckets (18–65 ms at bench/pages.py's scale).
    rows = (
        Bucket.objects.filter(watch_id=incident.watch_id, start__gte=start, start__lt=end)
        .order_by()
        .values_list("start", "volume", "negative", "risk_sum", "risk_max")
    )
    for at, v, n, r_sum, r_max in rows:
        i = min(points - 1, (at - start) // step)
        volume[i] += v
        negative[i] += n
        risk_sum[i] += r_sum
        risk_max[i] = max(risk_max[i], r_max)

    def index(moment: datetime) -> int:
        """The plotted step holding ``moment`` (clipped to the chart)."""
        return max(0, min(points - 1, (moment - start) // step))

    detected = incident.detected_at
    resolved = incident.resolved_at
    phases = [{"phase": Phase.PRE, "from": index(began), "to": index(detected)}]
    phases.append({"phase": Phase.DURING, "from": index(detected), "to": index(resolved or end)})
    if resolved is not None:
        phases.append({"phase": Phase.POST, "from": index(resolved), "to": points - 1})
    markers: list[dict[str, Any]] = [
        {"i": index(at), "at": at.isoformat(), "kind": "signal", "text": f"Signal: {name}"}
        for at, name in Signal.objects.filter(incident=incident)
        .order_by("detected_at")
        .values_list("detected_at", "rule__name")[:MARKERS_MAX]
    ]
    events = (
        TimelineEvent.objects.filter(incident=incident)
        .filter(Q(kind__startswith="status:") | Q(kind__in=["draft:published", OWN_STATEMENT]))
        .order_by("at", "id")
        .values_list("at", "kind", "text")[:MARKERS_MAX]
    )
    for at, kind, text in events:
        markers.append(
            {
                "i": index(at),
                "at": at.isoformat(),
                "kind": "status" if kind.startswith("status:") else "statement",
                "text": text[:140],
            }
        )
    return {
        "start": start.isoformat(),
        "step_seconds": int(step.total_seconds()),
        "labels": [(start + step * i).isoformat() for i in range(points)],
        "volume": volume,
        "negative": negative,
        "risk_mean": [round(risk_sum[i] / volume[i], 3) if volume[i] else 0 for i in range(points)],
        "risk_max": [round(r, 3) for r in risk_max],
        "phases": phases,
        "markers": markers,
    }


@dataclass
class CrisisBreakdown:
    """Who and what is loud in the incident so far."""

    terms: list[tuple[str, int]] = field(default_factory=list)
    voices: list[dict[str, Any]] = field(default_factory=list)
    languages: list[tuple[str, int]] = field(default_factory=list)


def _top_terms(incident: Incident) -> list[tuple[str, int]]:
    """The crisis terms most often matched in the incident's mentions, counted by the database."""
    table = Mention._meta.db_table
    expand = (
        "jsonb_array_elements_text(m.crisis_terms) AS t(term)"
        if connection.vendor == "postgresql"
        else "json_each(m.crisis_terms) AS t"
    )
    term = "t.term" if connection.vendor == "postgresql" else "t.value"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {term}, count(*) FROM {table} m, {expand} "  # noqa: S608 - names are ours
            f"WHERE m.incident_id = %s AND NOT m.is_own GROUP BY {term} ORDER BY 2 DESC, 1 LIMIT %s",
            [incident.pk, TOP_N],
        )
        return [(str(name), int(n)) for name, n in cursor.fetchall()]


def crisis_breakdown(incident: Incident) -> CrisisBreakdown:
    """Top terms, the loudest voices by reach, and the languages of the crisis so far. Three queries."""
    mentions = incident_mentions(incident).order_by()
    voices = list(
        mentions.exclude(author="")
        .values("author")
        .annotate(
            reach=Max("author_reach"),
            mentions=Count("pk"),
            negative=Count("pk", filter=Q(sentiment_label=SentimentLabel.NEGATIVE)),
        )
        .order_by("-reach", "-mentions", "author")[:TOP_N]
    )
    languages = [
        (row["language"] or "?", row["n"])
        for row in mentions.values("language").annotate(n=Count("pk")).order_by("-n", "language")
    ]
    return CrisisBreakdown(terms=_top_terms(incident), voices=voices, languages=languages)


@dataclass
class TimelinePhase:
    phase: str
    label: str
    events: list[TimelineEvent]  # newest first
    more: bool  # older events exist beyond these


def timeline_page(
    incident: Incident, *, phase: str | None = None, before: int | None = None, size: int = TIMELINE_PAGE
) -> list[TimelinePhase]:
    """The newest ``size`` events of each phase (or of ``phase`` only, older than event ``before``),
    newest first. One query (a row number per phase), so a 2,000-event incident renders 60 rows."""
    events = TimelineEvent.objects.filter(incident=incident)
    if phase is not None:
        events = events.filter(phase=phase)
    if before is not None:
        anchor = TimelineEvent.objects.filter(incident=incident, pk=before).values("at")
        events = events.filter(Q(at__lt=Subquery(anchor)) | Q(at=Subquery(anchor), pk__lt=before))
    ranked = (
        events.select_related("actor")
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("phase")], order_by=[F("at").desc(), F("id").desc()])
        )
        .filter(rank__lte=size + 1)
        .order_by("-at", "-id")
    )
    by_phase: dict[str, list[TimelineEvent]] = {value: [] for value in Phase.values}
    for event in ranked:
        by_phase.setdefault(event.phase, []).append(event)
    return [
        TimelinePhase(value, label, by_phase[value][:size], more=len(by_phase[value]) > size)
        for value, label in Phase.choices
        if phase is None or value == phase
    ]


@dataclass
class SinceLastLooked:
    """What others changed since the member last opened this incident."""

    last_seen_at: datetime | None
    signals: int = 0
    status_changes: list[TimelineEvent] = field(default_factory=list)
    drafts_submitted: int = 0
    replies_by_others: int = 0
    other_events: int = 0

    @property
    def anything(self) -> bool:
        return self.last_seen_at is not None and bool(
            self.signals
            or self.status_changes
            or self.drafts_submitted
            or self.replies_by_others
            or self.other_events
        )


def since_last_looked(incident: Incident, member: Member) -> SinceLastLooked:
    """Changes by anyone else (people and workers) recorded since the member's previous visit,
    counted by kind in one grouped query plus the status changes themselves. Nothing on a first visit."""
    seen = (
        IncidentView.objects.filter(incident=incident, member=member)
        .values_list("seen_at", flat=True)
        .first()
    )
    result = SinceLastLooked(last_seen_at=seen)
    # On a first visit there is nothing to compare with; the queries still run (from now, finding
    # nothing) so the page costs the same number of queries on every visit.
    since = seen if seen is not None else timezone.now()
    changes = TimelineEvent.objects.filter(incident=incident, recorded_at__gt=since).exclude(actor=member)
    for kind, n in changes.order_by().values_list("kind").annotate(n=Count("pk")):
        if kind in ("signal", "signal_attached"):
            result.signals += n
        elif kind == "draft:submitted":
            result.drafts_submitted += n
        elif kind == "reply":
            result.replies_by_others += n
        elif not kind.startswith("status:"):
            result.other_events += n
    result.status_changes = list(
        changes.filter(kind__startswith="status:").select_related("actor").order_by("at", "id")[:10]
    )
    return result
