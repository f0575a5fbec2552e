"""The post-crisis review's KPIs: facts computed from the incident's record.

Computed from the timeline, mentions, drafts and replies, stored in ``review.kpis`` when the review
is saved and recomputable later — sentiment may only recover days after the review was written.
Every KPI is a dict with a ``display`` string; when data is missing the value is ``None``, the
display is "—" (or "not yet") and ``note`` says why. Time to detect is measured from the crisis
start (``incidents.lifecycle.timeline.crisis_start_from``), the same moment the incident page shows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from incidents.lifecycle.selectors import crisis_start
from incidents.models import Draft, DraftStatus, Incident, Reply
from monitoring.models import Mention, SentimentLabel
from playbooks.constants import channel_name

# Sentiment counts as recovered in the first full hour after detection whose negative share is
# no more than the pre-crisis baseline share plus this margin (5 percentage points absorbs the
# noise of a small hour) and that holds at least RECOVERY_MIN_MENTIONS scored mentions (one
# neutral post in a silent hour says nothing).
BASELINE_HOURS = 24
RECOVERY_MARGIN = 0.05
RECOVERY_MIN_MENTIONS = 3

KPI_ORDER = (
    "time_to_detect",
    "time_to_acknowledge",
    "time_to_first_response",
    "time_to_first_reply",
    "peak_negative_per_hour",
    "sentiment_recovery",
)
KPI_LABELS = {
    "time_to_detect": "Time to detect",
    "time_to_acknowledge": "Time to acknowledge",
    "time_to_first_response": "Time to first published response",
    "time_to_first_reply": "Time to first reply",
    "peak_negative_per_hour": "Peak negative volume per hour",
    "sentiment_recovery": "Time for sentiment to recover",
}


def format_duration(seconds: float) -> str:
    """A short human duration: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def format_when(at: datetime) -> str:
    """A moment as the member reads it: local date, time and zone."""
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M %Z")


def _missing(
    key: str, why: str, *, display: str = "—", status: str = "missing", **extra: Any
) -> dict[str, Any]:
    return {
        "label": KPI_LABELS[key],
        "value": None,
        "display": display,
        "note": why,
        "status": status,
        **extra,
    }


def _duration(key: str, start: datetime, end: datetime, note: str, **extra: Any) -> dict[str, Any]:
    seconds = max(0.0, (end - start).total_seconds())
    return {
        "label": KPI_LABELS[key],
        "value": seconds,
        "unit": "seconds",
        "display": format_duration(seconds),
        "note": note,
        "status": "ok",
        "from": start.isoformat(),
        "to": end.isoformat(),
        **extra,
    }


def _time_to_detect(incident: Incident, start: datetime | None) -> dict[str, Any]:
    key = "time_to_detect"
    if start is None:
        return _missing(key, "No pre-crisis signal was recorded (was the incident opened by hand?).")
    return _duration(
        key,
        start,
        incident.detected_at,
        f"From the first pre-crisis signal ({format_when(start)}) to detection ({format_when(incident.detected_at)}).",
    )


def _time_to_acknowledge(incident: Incident) -> dict[str, Any]:
    key = "time_to_acknowledge"
    if incident.acknowledged_at is None:
        return _missing(key, "The incident was never acknowledged.")
    who = f" by {incident.acknowledged_by.get_username()}" if incident.acknowledged_by else ""
    return _duration(
        key,
        incident.detected_at,
        incident.acknowledged_at,
        f"From detection to acknowledgement{who} ({format_when(incident.acknowledged_at)}).",
    )


def _time_to_first_response(incident: Incident) -> dict[str, Any]:
    """The first public statement: a published draft or a post by one of our own accounts that the
    incident owns (``Mention.is_own``), whichever came first. Replies to single mentions are
    ``time_to_first_reply``."""
    key = "time_to_first_response"
    published = (
        Draft.objects.filter(incident=incident, status=DraftStatus.PUBLISHED, published_at__isnull=False)
        .order_by("published_at", "id")
        .only("published_at", "published_channel", "title", "kind")
        .first()
    )
    own = (
        Mention.objects.filter(incident=incident, is_own=True)
        .order_by("published_at", "id")
        .only("published_at", "author")
        .first()
    )
    firsts: list[tuple[datetime, str]] = []  # a published draft first when both came at once
    if published is not None and published.published_at is not None:
        firsts.append(
            (
                published.published_at,
                f"published statement on {channel_name(published.published_channel) or 'an unnamed channel'}",
            )
        )
    if own is not None:
        firsts.append((own.published_at, f"post by our own account {own.author}"))
    if not firsts:
        return _missing(key, "Nothing was published and none of our own accounts posted.")
    at, what = min(firsts, key=lambda first: first[0])
    return _duration(
        key, incident.detected_at, at, f"From detection to the first {what} ({format_when(at)})."
    )


def _time_to_first_reply(incident: Incident) -> dict[str, Any]:
    key = "time_to_first_reply"
    replied = Reply.objects.filter(incident=incident).aggregate(at=Min("replied_at"))["at"]
    if replied is None:
        return _missing(key, "No reply to a mention was recorded.")
    return _duration(
        key,
        incident.detected_at,
        replied,
        f"From detection to the first reply to a mention ({format_when(replied)}).",
    )


def _hourly(incident: Incident, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Scored mentions of the incident's watch per UTC clock hour, never our own posts: hour, total,
    negative, and ``owned_total``/``owned_negative`` for those the incident owns (the set its page
    and queue count, ``incident_mentions``), in one query."""
    owned = Q(incident_id=incident.pk)
    negative = Q(sentiment_label=SentimentLabel.NEGATIVE)
    return list(
        Mention.objects.filter(
            watch_id=incident.watch_id,
            is_own=False,
            published_at__gte=since,
            published_at__lt=until,
        )
        .exclude(sentiment_label="")
        .annotate(hour=TruncHour("published_at", tzinfo=UTC))
        .values("hour")
        .annotate(
            total=Count("pk"),
            negative=Count("pk", filter=negative),
            owned_total=Count("pk", filter=owned),
            owned_negative=Count("pk", filter=owned & negative),
        )
        .order_by("hour")
    )


def _peak_negative(
    incident: Incident, hours: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, Any]:
    """The busiest hour of negative mentions the incident owns (its page's and queue's set)."""
    key = "peak_negative_per_hour"
    first_hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    in_crisis = [row for row in hours if first_hour <= row["hour"] < end]
    if not in_crisis or not any(row["owned_negative"] for row in in_crisis):
        return _missing(
            key,
            "No scored negative mentions owned by the incident between the first signal and the end of the crisis.",
        )
    peak = max(in_crisis, key=lambda row: (row["owned_negative"], -row["hour"].timestamp()))
    hour = peak["hour"]
    return {
        "label": KPI_LABELS[key],
        "value": peak["owned_negative"],
        "unit": "mentions/hour",
        "display": f"{peak['owned_negative']} / h",
        "status": "ok",
        "at": hour.isoformat(),
        "note": (
            f"Busiest hour {format_when(hour)}–{timezone.localtime(hour + timedelta(hours=1)):%H:%M}: "
            f"{peak['owned_negative']} negative of {peak['owned_total']} scored mentions owned by the incident."
        ),
    }


def _sentiment_recovery(
    incident: Incident, hours: list[dict[str, Any]], start: datetime | None, now: datetime
) -> dict[str, Any]:
    key = "sentiment_recovery"
    anchor = start or incident.detected_at
    baseline = (
        Mention.objects.filter(
            watch_id=incident.watch_id,
            is_own=False,
            published_at__gte=anchor - timedelta(hours=BASELINE_HOURS),
            published_at__lt=anchor,
        )
        .exclude(sentiment_label="")
        .aggregate(total=Count("pk"), negative=Count("pk", filter=Q(sentiment_label=SentimentLabel.NEGATIVE)))
    )
    if not baseline["total"]:
        return _missing(
            key,
            f"No scored mentions in the {BASELINE_HOURS} h before the first signal, so there is no baseline.",
        )
    share = baseline["negative"] / baseline["total"]
    threshold = share + RECOVERY_MARGIN
    extra = {"baseline_share": round(share, 4), "threshold": round(threshold, 4)}
    for row in hours:
        hour_end = row["hour"] + timedelta(hours=1)
        if row["hour"] < incident.detected_at or hour_end > now or row["total"] < RECOVERY_MIN_MENTIONS:
            continue
        hour_share = row["negative"] / row["total"]
        if hour_share <= threshold:
            return _duration(
                key,
                incident.detected_at,
                hour_end,
                f"Hourly negative share was {hour_share:.0%} in the hour ending {format_when(hour_end)}, within the "
                f"pre-crisis baseline of {share:.0%} (+{RECOVERY_MARGIN:.0%} margin).",
                hour_share=round(hour_share, 4),
                **extra,
            )
    return _missing(
        key,
        f"Not yet: no full hour since detection has had a negative share within the pre-crisis baseline of "
        f"{share:.0%} (+{RECOVERY_MARGIN:.0%} margin, at least {RECOVERY_MIN_MENTIONS} scored mentions).",
        display="not yet",
        status="not_yet",
        **extra,
    )


def review_kpis(incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
    """Compute the review KPIs from the incident's record, in a fixed handful of queries."""
    now = now or timezone.now()
    start = crisis_start(incident)
    crisis_end = incident.resolved_at or incident.closed_at or now
    hours = _hourly(
        incident, min(start or incident.detected_at, incident.detected_at), now + timedelta(seconds=1)
    )
    kpis: dict[str, Any] = {
        "time_to_detect": _time_to_detect(incident, start),
        "time_to_acknowledge": _time_to_acknowledge(incident),
        "time_to_first_response": _time_to_first_response(incident),
        "time_to_first_reply": _time_to_first_reply(incident),
        # The incident's own set: the same mentions its page and queue count.
        "peak_negative_per_hour": _peak_negative(incident, hours, start or incident.detected_at, crisis_end),
        "sentiment_recovery": _sentiment_recovery(incident, hours, start, now),
    }
    kpis["computed_at"] = now.isoformat()
    return kpis


def kpis_computed_at(kpis: Any) -> datetime | None:
    """When the stored KPIs were computed, or None."""
    value = kpis.get("computed_at") if isinstance(kpis, dict) else None
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def kpi_rows(kpis: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored KPIs in display order (tolerates reviews stored before a KPI existed)."""
    rows = []
    for key in KPI_ORDER:
        row = kpis.get(key) if isinstance(kpis, dict) else None
        if not isinstance(row, dict):
            row = _missing(key, "Not computed yet: recompute the KPIs.")
        rows.append({"key": key, **row})
    return rows
