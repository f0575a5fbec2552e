"""After the crisis: the post-crisis review, its computed KPIs, its action items and its exports.

Writes follow the incident services' pattern: check the member's permission, lock the incident
row, change the rows, and write an audit row and a (post-crisis) timeline event in the same
transaction, then send ``incident_event``. Refusals the member should read raise ``ReviewError``;
missing permissions raise ``PermissionDenied``; bad field values raise ``ValidationError`` keyed by
the field.

KPIs are *facts computed from the record* (timeline, mentions, drafts, replies), stored in
``review.kpis`` when the review is saved and recomputable later — sentiment may only recover days
after the review was written. Every KPI is a dict with a ``display`` string; when data is missing
the value is ``None``, the display is "—" (or "not yet") and ``note`` says why.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from crisisdesk.audit import audit_record, snapshot
from crisisdesk.links import safe_url
from incidents.lifecycle.timeline import timeline_add
from incidents.models import ActionItem, Draft, DraftStatus, Incident, Reply, Review, Status, TimelineEvent
from incidents.signals import incident_event
from monitoring.models import Mention, SentimentLabel
from playbooks.models import Phase, Playbook

# Who may write reviews and action items: responders and up ("responders write, viewers read").
WRITE_REVIEW = "incidents.change_review"

# Sentiment counts as recovered in the first full hour after detection whose negative share is
# no more than the pre-crisis baseline share plus this margin (5 percentage points absorbs the
# noise of a small hour) and that holds at least RECOVERY_MIN_MENTIONS scored mentions (one
# neutral post in a silent hour says nothing).
BASELINE_HOURS = 24
RECOVERY_MARGIN = 0.05
RECOVERY_MIN_MENTIONS = 3

KPI_ORDER = (
    "time_to_detect", "time_to_acknowledge", "time_to_first_response", "peak_negative_per_hour",
    "sentiment_recovery",
)
KPI_LABELS = {
    "time_to_detect": "Time to detect",
    "time_to_acknowledge": "Time to acknowledge",
    "time_to_first_response": "Time to first published response",
    "peak_negative_per_hour": "Peak negative volume per hour",
    "sentiment_recovery": "Time for sentiment to recover",
}
REVIEW_FIELDS = ["summary", "went_well", "went_badly", "lessons"]
MAX_TEXT = 20_000


class ReviewError(Exception):
    """A change the incident's current state refuses; the message is shown to the member as is."""


# --- KPI computation ---------------------------------------------------------------------------


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


def _when(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M %Z")


def _missing(key: str, why: str, *, display: str = "—", status: str = "missing", **extra: Any) -> dict[str, Any]:
    return {"label": KPI_LABELS[key], "value": None, "display": display, "note": why, "status": status, **extra}


def _duration(key: str, start: datetime, end: datetime, note: str, **extra: Any) -> dict[str, Any]:
    seconds = max(0.0, (end - start).total_seconds())
    return {
        "label": KPI_LABELS[key], "value": seconds, "unit": "seconds", "display": format_duration(seconds),
        "note": note, "status": "ok", "from": start.isoformat(), "to": end.isoformat(), **extra,
    }


def crisis_start(incident: Incident) -> datetime | None:
    """The first pre-crisis signal: the earliest pre-crisis timeline event or the recorded first signal."""
    first_pre = TimelineEvent.objects.filter(incident=incident, phase=Phase.PRE).aggregate(at=Min("at"))["at"]
    candidates = [at for at in (first_pre, incident.first_signal_at) if at is not None]
    return min(candidates) if candidates else None


def _time_to_detect(incident: Incident, start: datetime | None) -> dict[str, Any]:
    key = "time_to_detect"
    if start is None:
        return _missing(key, "No pre-crisis signal was recorded (was the incident opened by hand?).")
    return _duration(
        key, start, incident.detected_at,
        f"From the first pre-crisis signal ({_when(start)}) to detection ({_when(incident.detected_at)}).",
    )


def _time_to_acknowledge(incident: Incident) -> dict[str, Any]:
    key = "time_to_acknowledge"
    if incident.acknowledged_at is None:
        return _missing(key, "The incident was never acknowledged.")
    who = f" by {incident.acknowledged_by.get_username()}" if incident.acknowledged_by else ""
    return _duration(
        key, incident.detected_at, incident.acknowledged_at,
        f"From detection to acknowledgement{who} ({_when(incident.acknowledged_at)}).",
    )


def _time_to_first_response(incident: Incident) -> dict[str, Any]:
    key = "time_to_first_response"
    published = (
        Draft.objects.filter(incident=incident, status=DraftStatus.PUBLISHED, published_at__isnull=False)
        .order_by("published_at", "id").only("published_at", "published_channel", "title", "kind").first()
    )
    replied = Reply.objects.filter(incident=incident).aggregate(at=Min("replied_at"))["at"]
    if published is None and replied is None:
        return _missing(key, "Nothing was published and no reply was recorded.")
    if published is not None and (replied is None or published.published_at <= replied):
        what = f"published statement on {published.published_channel or 'an unnamed channel'}"
        at = published.published_at
    else:
        what, at = "reply to a mention", replied
    return _duration(key, incident.detected_at, at, f"From detection to the first {what} ({_when(at)}).")


def _hourly(incident: Incident, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Scored mentions of the incident's watch per UTC clock hour: hour, total, negative."""
    return list(
        Mention.objects.filter(
            watch_id=incident.watch_id, published_at__gte=since, published_at__lt=until,
        ).exclude(sentiment_label="")
        .annotate(hour=TruncHour("published_at", tzinfo=UTC))
        .values("hour")
        .annotate(total=Count("pk"), negative=Count("pk", filter=Q(sentiment_label=SentimentLabel.NEGATIVE)))
        .order_by("hour")
    )


def _peak_negative(incident: Incident, hours: list[dict[str, Any]], start: datetime, end: datetime) -> dict:
    key = "peak_negative_per_hour"
    first_hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    in_crisis = [row for row in hours if first_hour <= row["hour"] < end]
    if not in_crisis or not any(row["negative"] for row in in_crisis):
        return _missing(key, "No scored negative mentions between the first signal and the end of the crisis.")
    peak = max(in_crisis, key=lambda row: (row["negative"], -row["hour"].timestamp()))
    hour = peak["hour"]
    return {
        "label": KPI_LABELS[key], "value": peak["negative"], "unit": "mentions/hour",
        "display": f"{peak['negative']} / h", "status": "ok", "at": hour.isoformat(),
        "note": (
            f"Busiest hour {_when(hour)}–{timezone.localtime(hour + timedelta(hours=1)):%H:%M}: "
            f"{peak['negative']} negative of {peak['total']} scored mentions."
        ),
    }


def _sentiment_recovery(
    incident: Incident, hours: list[dict[str, Any]], start: datetime | None, now: datetime
) -> dict[str, Any]:
    key = "sentiment_recovery"
    anchor = start or incident.detected_at
    baseline = Mention.objects.filter(
        watch_id=incident.watch_id, published_at__gte=anchor - timedelta(hours=BASELINE_HOURS),
        published_at__lt=anchor,
    ).exclude(sentiment_label="").aggregate(
        total=Count("pk"), negative=Count("pk", filter=Q(sentiment_label=SentimentLabel.NEGATIVE))
    )
    if not baseline["total"]:
        return _missing(
            key, f"No scored mentions in the {BASELINE_HOURS} h before the first signal, so there is no baseline."
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
                key, incident.detected_at, hour_end,
                f"Hourly negative share was {hour_share:.0%} in the hour ending {_when(hour_end)}, within the "
                f"pre-crisis baseline of {share:.0%} (+{RECOVERY_MARGIN:.0%} margin).",
                hour_share=round(hour_share, 4), **extra,
            )
    return _missing(
        key,
        f"Not yet: no full hour since detection has had a negative share within the pre-crisis baseline of "
        f"{share:.0%} (+{RECOVERY_MARGIN:.0%} margin, at least {RECOVERY_MIN_MENTIONS} scored mentions).",
        display="not yet", status="not_yet", **extra,
    )


def review_kpis(incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
    """Compute the review KPIs from the incident's record, in a fixed handful of queries."""
    now = now or timezone.now()
    start = crisis_start(incident)
    crisis_end = incident.resolved_at or incident.closed_at or now
    hours = _hourly(incident, min(start or incident.detected_at, incident.detected_at), now + timedelta(seconds=1))
    kpis: dict[str, Any] = {
        "time_to_detect": _time_to_detect(incident, start),
        "time_to_acknowledge": _time_to_acknowledge(incident),
        "time_to_first_response": _time_to_first_response(incident),
        "peak_negative_per_hour": _peak_negative(
            incident, hours, start or incident.detected_at, crisis_end
        ),
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


# --- Writes ------------------------------------------------------------------------------------


def _require(by: Any) -> None:
    if not (by is not None and getattr(by, "is_active", False) and by.has_perm(WRITE_REVIEW)):
        raise PermissionDenied("Your role may not write reviews.")


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _clean(value: str, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: "This field is required."})
    if len(value) > limit:
        raise ValidationError({field: f"Keep it under {limit} characters."})
    return value


@transaction.atomic
def review_write(
    *, incident: Incident, by: Any, summary: str, went_well: str = "", went_badly: str = "", lessons: str = ""
) -> Review:
    """Write (or rewrite) the incident's review once it is resolved, computing its KPIs now.

    Closed incidents keep their review as it was when they were closed.
    """
    _require(by)
    texts = {
        "summary": _clean(summary, "summary", required=True), "went_well": _clean(went_well, "went_well"),
        "went_badly": _clean(went_badly, "went_badly"), "lessons": _clean(lessons, "lessons"),
    }
    locked = _lock(incident)
    if locked.status == Status.CLOSED:
        raise ReviewError("This incident is closed; its review can no longer change.")
    if locked.status != Status.RESOLVED:
        raise ReviewError("Resolve the incident before writing its post-crisis review.")
    review = Review.objects.select_for_update().filter(incident=locked).first()
    created = review is None
    before = {} if created else snapshot(review, REVIEW_FIELDS)
    if created:
        review = Review(incident=locked, author=by)
    for name, value in texts.items():
        setattr(review, name, value)
    review.kpis = review_kpis(locked)
    review.save()
    verb = "written" if created else "updated"
    timeline_add(
        incident=locked, kind=f"review:{verb}", phase=Phase.POST, actor=by,
        text=f"Post-crisis review {verb} by {by.get_username()}", data={"review": review.pk},
    )
    audit_record(actor=by, action=f"review.{verb}", target=review, before=before,
                 after={**snapshot(review, REVIEW_FIELDS), "incident": locked.pk})
    incident_event.send(sender=Incident, incident=locked, event=f"review:{verb}", actor=by)
    return review


@transaction.atomic
def review_recompute_kpis(*, review: Review, by: Any) -> Review:
    """Recompute the stored KPIs from the record as it is now (e.g. sentiment recovered since)."""
    _require(by)
    review = Review.objects.select_for_update().select_related("incident").get(pk=review.pk)
    before = {"kpis": review.kpis}
    review.kpis = review_kpis(review.incident)
    review.save(update_fields=["kpis", "updated_at"])
    audit_record(actor=by, action="review.kpis_recomputed", target=review, before=before,
                 after={"kpis": review.kpis})
    return review


def _check_owner(owner: Any) -> None:
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": "The owner must be an active team member."})


@transaction.atomic
def action_item_add(
    *, review: Review, by: Any, text: str, owner: Any | None = None, playbook: Playbook | None = None
) -> ActionItem:
    """Add a follow-up to the review; ``playbook`` is the playbook it asks to change, if any.

    Allowed after closing too: action items are the work that outlives the incident.
    """
    _require(by)
    text = _clean(text, "text", required=True, limit=300)
    _check_owner(owner)
    locked = _lock(review.incident)
    item = ActionItem.objects.create(review=review, text=text, owner=owner, playbook=playbook)
    extras = []
    if owner is not None:
        extras.append(f"owner {owner.get_username()}")
    if playbook is not None:
        extras.append(f"changes playbook “{playbook}”")
    timeline_add(
        incident=locked, kind="review:action_item", phase=Phase.POST, actor=by,
        text=f"Action item added: {text}" + (f" ({', '.join(extras)})" if extras else ""),
        data={"action_item": item.pk, "playbook": playbook.pk if playbook else None},
    )
    audit_record(actor=by, action="action_item.added", target=item,
                 after={**snapshot(item, ["text", "owner", "playbook"]), "review": review.pk})
    incident_event.send(sender=Incident, incident=locked, event="review:action_item", actor=by)
    return item


@transaction.atomic
def action_item_set_done(*, item: ActionItem, by: Any, done: bool) -> ActionItem:
    """Mark an action item done (or not done again); a conditional UPDATE makes double clicks harmless."""
    _require(by)
    now = timezone.now()
    changed = ActionItem.objects.filter(pk=item.pk, done_at__isnull=done).update(done_at=now if done else None)
    if not changed:
        raise ReviewError("That action item is already done." if done else "That action item is not done.")
    item = ActionItem.objects.select_related("review__incident").get(pk=item.pk)
    incident = item.review.incident
    verb = "done" if done else "reopened"
    timeline_add(
        incident=incident, kind=f"review:action_item_{verb}", phase=Phase.POST, actor=by,
        text=f"Action item {verb}: {item.text}", data={"action_item": item.pk},
    )
    audit_record(actor=by, action=f"action_item.{verb}", target=item,
                 before={"done_at": None if done else "set"}, after=snapshot(item, ["done_at"]))
    incident_event.send(sender=Incident, incident=incident, event=f"review:action_item_{verb}", actor=by)
    return item


def action_item_owner_choices():
    """Active members who can own an action item."""
    return get_user_model().objects.filter(is_active=True).order_by("username")


# --- Markdown export ---------------------------------------------------------------------------

# Characters that start Markdown inline structure (emphasis, code, links, HTML, entities, tables,
# strikethrough) — backslash-escaped wherever untrusted text appears.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&#!{}])")
# Block markers that only matter at the start of a line: lists, quotes, headings, rules, setext.
_MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")


def md_inline(text: str) -> str:
    """Untrusted text as one Markdown inline: whitespace collapsed, structure characters escaped."""
    text = " ".join(str(text or "").split())
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), text)


def _escape_marker(marker: str) -> str:
    # "12." -> "12\." ; "-" -> "\-"
    return marker[:-1] + "\\" + marker[-1]


def md_block(text: str) -> str:
    """Untrusted multi-line text as Markdown paragraphs: each line escaped, line breaks kept.

    Leading indentation is dropped (it would turn a line into a code block) and no line can open
    a heading, list, quote, fence, table, HTML block or thematic break.
    """
    lines = str(text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        escaped = md_inline(line)
        if escaped:
            paragraphs[-1].append(escaped)
        elif paragraphs[-1]:
            paragraphs.append([])
    # Two trailing spaces: a hard line break, so the author's lines stay lines inside one paragraph.
    return "\n\n".join("  \n".join(paragraph) for paragraph in paragraphs if paragraph)


def md_link(url: str) -> str:
    """An http(s) URL as a Markdown autolink (``<…>``), or "" for anything else."""
    url = safe_url(url)
    if not url:
        return ""
    return "<" + quote(url, safe=":/?#[]@!$&'()*+,;=%~") + ">"


def _md_when(at: datetime | None) -> str:
    return _when(at) if at else "—"


def _md_section(title: str, text: str) -> list[str]:
    return [f"## {title}", "", md_block(text) or "_Nothing written._", ""]


def review_markdown(
    *, incident: Incident, review: Review, timeline: list[Any], action_items: list[ActionItem], base_url: str
) -> str:
    """The review and the incident's full timeline as one Markdown document.

    Every piece of text a person or a stranger wrote goes through ``md_inline``/``md_block``, so no
    mention, note or review can add headings, links, HTML or tables of its own. ``base_url`` makes
    the playbook links absolute (the file is read outside CrisisDesk).
    """
    base_url = base_url.rstrip("/")
    lines = [
        f"# Post-crisis review: #{incident.pk} {md_inline(incident.title)}",
        "",
        f"- **Watch:** {md_inline(incident.watch.name)}",
        f"- **Severity:** SEV{incident.severity}",
        f"- **Status:** {incident.get_status_display()}",
        f"- **Crisis began (first pre-crisis sign):** {_md_when(crisis_start_from(timeline, incident))}",
        f"- **Detected:** {_md_when(incident.detected_at)}",
        f"- **Acknowledged:** {_md_when(incident.acknowledged_at)}",
        f"- **Resolved:** {_md_when(incident.resolved_at)}",
        f"- **Closed:** {_md_when(incident.closed_at)}",
        f"- **Review by:** {md_inline(review.author.get_username()) if review.author else '—'},"
        f" last saved {_md_when(review.updated_at)}",
        "",
    ]
    lines += _md_section("Summary", review.summary)
    lines += _md_section("What went well", review.went_well)
    lines += _md_section("What went badly", review.went_badly)
    lines += _md_section("Lessons", review.lessons)
    lines += ["## KPIs", "", "| KPI | Value | How it was measured |", "| --- | --- | --- |"]
    for row in kpi_rows(review.kpis):
        lines.append(f"| {md_inline(row['label'])} | {md_inline(row['display'])} | {md_inline(row.get('note', ''))} |")
    computed = kpis_computed_at(review.kpis)
    lines += ["", f"_KPIs computed {_md_when(computed) if computed else 'never'}._", "", "## Action items", ""]
    for item in action_items:
        box = "x" if item.done_at else " "
        parts = [md_inline(item.text)]
        if item.owner is not None:
            parts.append(f"owner: {md_inline(item.owner.get_username())}")
        if item.playbook is not None:
            url = base_url + reverse("playbooks:edit", args=[item.playbook_id])
            parts.append(f"changes playbook [{md_inline(str(item.playbook))}]({url})")
        lines.append(f"- [{box}] " + " — ".join(parts))
    if not action_items:
        lines.append("_No action items._")
    lines += ["", "## Timeline", ""]
    for group in timeline:
        lines += [f"### {group.label}", ""]
        for event in group.events:
            actor = event.actor.get_username() if event.actor else "CrisisDesk"
            entry = f"- {_when(event.at)} · {md_inline(actor)} · {md_inline(event.text)}"
            links = [link for link in (md_link(str(url)) for url in (event.links or [])) if link]
            if links:
                entry += " · " + " ".join(links)
            lines.append(entry)
        if not group.events:
            lines.append("_Nothing recorded._")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def crisis_start_from(timeline: list[Any], incident: Incident) -> datetime | None:
    """``crisis_start`` from an already-loaded timeline (no extra query)."""
    firsts = [group.events[0].at for group in timeline if group.phase == Phase.PRE and group.events]
    candidates = [at for at in (*firsts, incident.first_signal_at) if at is not None]
    return min(candidates) if candidates else None
