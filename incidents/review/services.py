"""Post-crisis review writes: the review text, its KPI refresh and its action items.

Writes follow the incident services' pattern: check the member's permission, lock the incident
row, change the rows, and write an audit row and a (post-crisis) timeline event in the same
transaction, then send ``incident_event``. Refusals the member should read raise ``ReviewError``;
missing permissions raise ``PermissionDenied``; bad field values raise ``ValidationError`` keyed by
the field.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record, audited_update, snapshot
from crisisdesk.errors import Refusal
from crisisdesk.types import Member
from incidents.lifecycle.timeline import timeline_add
from incidents.models import ActionItem, Incident, Review, Status
from incidents.review.kpis import review_kpis
from incidents.signals import incident_event
from playbooks.models import Phase, Playbook

# Who may write reviews and action items: responders and up ("responders write, viewers read").
WRITE_REVIEW = "incidents.change_review"

REVIEW_FIELDS = ["summary", "went_well", "went_badly", "lessons"]
MAX_TEXT = 20_000


class ReviewError(Refusal):
    """A change the incident's current state refuses; the message is shown to the member as is."""

    code = "review_refused"


def review_text_writable(incident: Incident) -> bool:
    """Whether the review's text may be written now: only while the incident is resolved. Before,
    the crisis is not over; once closed, the review stays as it was when the incident was closed."""
    return incident.status == Status.RESOLVED


def _require(by: Member | None) -> None:
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
    *,
    incident: Incident,
    by: Member,
    summary: str,
    went_well: str = "",
    went_badly: str = "",
    lessons: str = "",
) -> Review:
    """Write (or rewrite) the incident's review once it is resolved, computing its KPIs now.

    Closed incidents keep their review as it was when they were closed.
    """
    _require(by)
    texts = {
        "summary": _clean(summary, "summary", required=True),
        "went_well": _clean(went_well, "went_well"),
        "went_badly": _clean(went_badly, "went_badly"),
        "lessons": _clean(lessons, "lessons"),
    }
    locked = _lock(incident)
    if not review_text_writable(locked):
        if locked.status == Status.CLOSED:
            raise ReviewError("This incident is closed; its review can no longer change.")
        raise ReviewError("Resolve the incident before writing its post-crisis review.")
    existing = Review.objects.select_for_update().filter(incident=locked).first()
    created = existing is None
    review = Review(incident=locked, author=by) if existing is None else existing
    before = {} if existing is None else snapshot(existing, REVIEW_FIELDS)
    for name, value in texts.items():
        setattr(review, name, value)
    review.kpis = review_kpis(locked)
    review.save()
    verb = "written" if created else "updated"
    timeline_add(
        incident=locked,
        kind=f"review:{verb}",
        phase=Phase.POST,
        actor=by,
        text=f"Post-crisis review {verb} by {by.get_username()}",
        data={"review": review.pk},
    )
    audit_record(
        actor=by,
        action=f"review.{verb}",
        target=review,
        before=before,
        after={**snapshot(review, REVIEW_FIELDS), "incident": locked.pk},
    )
    incident_event.send(sender=Incident, incident=locked, event=f"review:{verb}", actor=by)
    return review


@transaction.atomic
def review_recompute_kpis(*, review: Review, by: Member) -> Review:
    """Recompute the stored KPIs from the record as it is now (e.g. sentiment recovered since)."""
    _require(by)
    review = Review.objects.select_for_update().select_related("incident").get(pk=review.pk)
    audited_update(
        instance=review,
        by=by,
        action="review.kpis_recomputed",
        changes={"kpis": review_kpis(review.incident)},
    )
    return review


def _check_owner(owner: Member | None) -> None:
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": "The owner must be an active team member."})


@transaction.atomic
def action_item_add(
    *, review: Review, by: Member, text: str, owner: Member | None = None, playbook: Playbook | None = None
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
        incident=locked,
        kind="review:action_item",
        phase=Phase.POST,
        actor=by,
        text=f"Action item added: {text}" + (f" ({', '.join(extras)})" if extras else ""),
        data={"action_item": item.pk, "playbook": playbook.pk if playbook else None},
    )
    audit_record(
        actor=by,
        action="action_item.added",
        target=item,
        after={**snapshot(item, ["text", "owner", "playbook"]), "review": review.pk},
    )
    incident_event.send(sender=Incident, incident=locked, event="review:action_item", actor=by)
    return item


@transaction.atomic
def action_item_set_done(*, item: ActionItem, by: Member, done: bool) -> ActionItem:
    """Mark an action item done (or not done again); a conditional UPDATE makes double clicks harmless."""
    _require(by)
    now = timezone.now()
    changed = ActionItem.objects.filter(pk=item.pk, done_at__isnull=done).update(
        done_at=now if done else None
    )
    if not changed:
        raise ReviewError("That action item is already done." if done else "That action item is not done.")
    item = ActionItem.objects.select_related("review__incident").get(pk=item.pk)
    incident = item.review.incident
    verb = "done" if done else "reopened"
    timeline_add(
        incident=incident,
        kind=f"review:action_item_{verb}",
        phase=Phase.POST,
        actor=by,
        text=f"Action item {verb}: {item.text}",
        data={"action_item": item.pk},
    )
    audit_record(
        actor=by,
        action=f"action_item.{verb}",
        target=item,
        before={"done_at": None if done else "set"},
        after=snapshot(item, ["done_at"]),
    )
    incident_event.send(sender=Incident, incident=incident, event=f"review:action_item_{verb}", actor=by)
    return item
