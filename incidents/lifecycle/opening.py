"""Opening: a signal opens an incident for its watch, or attaches to the one already open.

(Not to be confused with notification *escalation*, ``incidents.notifications.escalation``: raising
an unacknowledged incident to the next tier of people.)

Idempotent: the signal is claimed by a conditional UPDATE of ``processed_at``, so a duplicate task
(or the sweeper re-nudging) does nothing. The database decides races between two openers: the
partial unique constraint ``incident_one_open_per_watch`` lets one INSERT win; the loser re-reads
and attaches. Everything — the incident, timeline, mention links, audit — commits together, and
``incident_event`` is sent inside the transaction (receivers defer outside effects to on_commit).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record, audited_update, snapshot
from incidents.lifecycle.ownership import attach_watch_mentions, lock_watch, ownership_start
from incidents.lifecycle.timeline import timeline_add
from incidents.models import OPEN_STATUSES, Incident, Status
from incidents.signals import incident_event
from monitoring.models import Mention, RuleKind, Signal
from playbooks.models import Phase, Scenario, ScenarioType

NOTABLE_PER_KIND = 3  # most negative, highest risk, highest reach: at most 3 each
NOTABLE_MAX = 8
HIGH_REACH = 10_000
_TICK = timedelta(microseconds=1)


def _scenario_label(hint: str) -> str:
    try:
        label = str(ScenarioType(hint).label)
    except ValueError:
        return hint.replace("_", " ")
    return label.split(" or ")[0].lower()


def _dominant_hint(mentions: list[Mention]) -> str:
    counts = Counter(m.scenario_hint for m in mentions if m.scenario_hint)
    return counts.most_common(1)[0][0] if counts else ""


def _describe(signal: Signal) -> str:
    rule = signal.rule
    kind = RuleKind(rule.kind).label if rule.kind in RuleKind.values else rule.kind
    window = int((signal.window_end - signal.window_start).total_seconds() // 60)
    if rule.kind == RuleKind.HIGH_REACH_NEGATIVE:
        what = f"{signal.observed:g} negative mention(s) from high-reach authors"
    else:
        what = f"{signal.observed:g} in {window} min against {signal.expected:.2g} expected"
    return f"{kind} rule “{rule.name}” fired: {what} (SEV{signal.severity})."


def _notable(mentions: list[Mention]) -> list[Mention]:
    """A bounded pick of what a responder should read first: most negative, riskiest, loudest."""
    chosen: dict[int, Mention] = {}
    rankings = [
        sorted((m for m in mentions if m.sentiment is not None), key=lambda m: (m.sentiment, m.pk)),
        sorted((m for m in mentions if (m.risk or 0) > 0), key=lambda m: (-(m.risk or 0), m.pk)),
        sorted((m for m in mentions if m.author_reach >= HIGH_REACH), key=lambda m: (-m.author_reach, m.pk)),
    ]
    for ranking in rankings:
        for mention in ranking[:NOTABLE_PER_KIND]:
            chosen.setdefault(mention.pk, mention)
    return sorted(chosen.values(), key=lambda m: (m.published_at, m.pk))[:NOTABLE_MAX]


def _short(text: str, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write_buildup(incident: Incident, signal: Signal, mentions: list[Mention], now: datetime) -> None:
    """The pre-crisis part of the timeline, each event at its own time (before the declaration)."""
    before = now - _TICK
    if mentions:
        first = min(mentions, key=lambda m: (m.published_at, m.pk))
        timeline_add(
            incident=incident,
            kind="buildup_started",
            phase=Phase.PRE,
            at=min(first.published_at, before),
            text=f"First mention of the build-up, by {first.author or 'an anonymous author'}: {_short(first.text)}",
            mention=first,
            links=[first.url] if first.url else None,
        )
    for mention in _notable(mentions):
        timeline_add(
            incident=incident,
            kind="notable_mention",
            phase=Phase.PRE,
            at=min(mention.published_at, before),
            text=(
                f"{mention.author or 'Anonymous'} ({mention.author_reach:,} followers, "
                f"sentiment {mention.sentiment if mention.sentiment is not None else 0:+.2f}): {_short(mention.text)}"
            ),
            mention=mention,
            links=[mention.url] if mention.url else None,
            data={"risk": mention.risk, "reach": mention.author_reach, "sentiment": mention.sentiment},
        )
    timeline_add(
        incident=incident,
        kind="signal",
        phase=Phase.PRE,
        at=min(signal.detected_at, before),
        text=_describe(signal),
        signal=signal,
        data={"summary": signal.summary},
    )


def _open(signal: Signal, mentions: list[Mention], now: datetime) -> Incident:
    watch = signal.watch
    hint = _dominant_hint(mentions)
    scenario = Scenario.objects.filter(type=hint).first() if hint else None
    kind = RuleKind(signal.rule.kind).label.lower() if signal.rule.kind in RuleKind.values else "signal"
    title = f"{watch.name}: {kind}" + (f", {_scenario_label(hint)}?" if hint else "")
    return Incident.objects.create(
        title=title[:200],
        watch=watch,
        scenario=scenario or watch.default_scenario,
        scenario_hint=hint,
        severity=signal.severity,
        status=Status.DETECTED,
        first_signal_at=min(signal.detected_at, now),
        detected_at=now,
    )


def _link_mentions(incident: Incident, mention_ids: list[int]) -> int:
    return Mention.objects.filter(pk__in=mention_ids, incident__isnull=True).update(incident=incident)


@transaction.atomic
def open_or_attach(*, signal_id: int) -> Incident | None:
    """Open or attach to the watch's incident for this signal. ``None`` if the signal was already
    processed (a duplicate task, or the sweeper re-nudging)."""
    now = timezone.now()
    if not Signal.objects.filter(pk=signal_id, processed_at__isnull=True).update(processed_at=now):
        return None
    signal = Signal.objects.select_related("rule", "watch").get(pk=signal_id)
    watch = signal.watch
    mentions = list(
        signal.mentions.only(
            "id",
            "author",
            "author_reach",
            "text",
            "url",
            "sentiment",
            "risk",
            "scenario_hint",
            "published_at",
        ).order_by("published_at", "id")
    )
    mention_ids = [m.pk for m in mentions]

    incident = Incident.objects.select_for_update().filter(watch=watch, status__in=OPEN_STATUSES).first()
    opened = False
    if incident is None:
        # Before opening: wait for in-flight ingests of this watch (their rows must be seen by the
        # attach below) and make new ones wait for this incident (see lifecycle.ownership).
        lock_watch(watch.pk)
        incident = Incident.objects.select_for_update().filter(watch=watch, status__in=OPEN_STATUSES).first()
    if incident is None:
        try:
            with transaction.atomic():
                incident = _open(signal, mentions, now)
            opened = True
        except IntegrityError:
            # A concurrent opener won the race: the constraint guarantees there is one now.
            incident = Incident.objects.select_for_update().get(watch=watch, status__in=OPEN_STATUSES)

    if opened:
        reason = f"Opened incident #{incident.pk}: no incident was open for watch {watch.name}."
        _write_buildup(incident, signal, mentions, now)
        timeline_add(
            incident=incident,
            kind="detected",
            phase=Phase.DURING,
            at=now,
            signal=signal,
            text=f"Incident declared for {watch.name} (SEV{incident.severity}). {_describe(signal)}",
        )
    else:
        since = timezone.localtime(incident.detected_at).strftime("%Y-%m-%d %H:%M %Z")
        reason = f"Same watch {watch.name}; incident #{incident.pk} open since {since}."
        timeline_add(
            incident=incident,
            kind="signal_attached",
            phase=Phase.DURING,
            at=now,
            signal=signal,
            text=f"{_describe(signal)} Attached: {reason}",
            data={"summary": signal.summary},
        )

    Signal.objects.filter(pk=signal.pk).update(incident=incident, reason=reason)
    linked = _link_mentions(incident, mention_ids)
    if opened:
        # The incident owns every mention of its watch from the crisis start on: those already
        # stored are attached here in one UPDATE, later ones by ingest as they arrive.
        owns_from = ownership_start(incident)
        Incident.objects.filter(pk=incident.pk).update(owns_mentions_from=owns_from)
        incident.owns_mentions_from = owns_from
        linked += attach_watch_mentions(incident=incident, since=owns_from)

    if opened:
        audit_record(
            actor=None,
            action="incident.opened",
            target=incident,
            after={
                **snapshot(incident, ["title", "watch", "scenario", "scenario_hint", "severity", "status"]),
                "signal": signal.pk,
                "mentions_linked": linked,
            },
        )
        incident_event.send(sender=Incident, incident=incident, event="opened", actor=None)
    else:
        audit_record(
            actor=None,
            action="incident.signal_attached",
            target=incident,
            after={"signal": signal.pk, "reason": reason, "mentions_linked": linked},
        )
        if signal.severity < incident.severity:
            old = incident.severity
            audited_update(
                instance=incident,
                by=None,
                action="incident.severity_raised",
                changes={"severity": signal.severity},
            )
            timeline_add(
                incident=incident,
                kind="severity_raised",
                phase=Phase.DURING,
                at=now,
                signal=signal,
                text=f"Severity raised to SEV{signal.severity} by rule “{signal.rule.name}”.",
                data={"from": old, "to": signal.severity},
            )
            incident_event.send(
                sender=Incident, incident=incident, event=f"severity:{signal.severity}", actor=None
            )
    return incident
