"""Working an incident: playbook activation, tasks, crisis roles, drafts, replies and evidence.

Writes only; reads for the panels live in ``incidents.response.selectors``. Each service checks the
member's permission, changes rows under a lock or a conditional UPDATE, and writes an audit row and a
timeline event in the same transaction, then sends ``incident_event`` (notification receivers keep
quiet about these events unless they choose otherwise). Refusals raise ``ResponseError`` with a
message meant for the member; missing permissions raise ``PermissionDenied``; bad field values raise
``ValidationError`` keyed by the field.

Activating a playbook **snapshots** it: tasks, role assignments and drafts copy the words, due
offsets and template version at that moment, so later playbook edits never rewrite an incident.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisisdesk.audit.services import audit_record, audited_update, snapshot
from crisisdesk.errors import Refusal
from crisisdesk.links import safe_url
from crisisdesk.roles import APPROVE_DRAFTS, CLOSE_INCIDENTS, TRIAGE_INCIDENTS
from crisisdesk.types import Member
from incidents.lifecycle.timeline import timeline_add
from incidents.models import Draft, DraftStatus, Evidence, Incident, Reply, RoleAssignment, Status, Task
from incidents.publishing.selectors import public_url, site_for_watch
from incidents.signals import incident_event
from monitoring.models import Mention
from playbooks.constants import channel_name
from playbooks.message_templates.placeholders import placeholders_in, render_placeholders
from playbooks.message_templates.selectors import approved_templates_for
from playbooks.models import ApprovalState, MessageTemplate, Playbook, PlaybookStatus

# Who may set an incident's first-response target: managers and up (the same people who may close).
SET_RESPONSE_TARGET = CLOSE_INCIDENTS

DRAFT_FIELDS = [
    "status", "kind", "channel", "language", "title", "body", "author", "approver", "submitted_at",
    "approved_at", "published_at", "published_by", "published_channel", "published_url",
]  # fmt: skip
DRAFT_EDITABLE = {"title", "body", "channel", "language", "kind"}
MAX_FIRST_RESPONSE_MINUTES = 7 * 24 * 60


class ResponseError(Refusal):
    """A change the incident's current state refuses; the message is shown to the member as is."""

    code = "response_refused"


def _require(by: Member | None, permission: str, what: str) -> None:
    if not (by is not None and getattr(by, "is_active", False) and by.has_perm(permission)):
        raise PermissionDenied(f"Your role may not {what}.")


def _lock_incident(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _refuse_closed(incident: Incident) -> None:
    if incident.status == Status.CLOSED:
        raise ResponseError("This incident is closed; its record can no longer change.")


def _event(incident: Incident, event: str, by: Member) -> None:
    incident_event.send(sender=Incident, incident=incident, event=event, actor=by)


def _username(user: Member | None) -> str:
    return user.get_username() if user is not None else "nobody"


# --- Playbook activation ---------------------------------------------------------------------


def placeholder_values(incident: Incident) -> dict[str, str]:
    """The public facts for a template's placeholders; unknown or empty ones stay as ``{name}`` for
    a human, and a draft still holding one cannot be submitted, approved or published.

    Only fields a person wrote for the public: ``{issue}`` is ``Incident.public_summary``, never the
    title (internal, often a rule's wording such as "Acme Air: volume spike"). ``{incident_url}`` is
    the watch's dark site once one is prepared (its address never changes, dark or live).
    """
    values = {"brand": incident.watch.name, "issue": incident.public_summary.strip()}
    site = site_for_watch(incident.watch)
    if site is not None:
        values["incident_url"] = public_url(site)
    return values


def drafts_fill(*, incident: Incident, values: dict[str, str], by: Member | None) -> int:
    """Fill ``values`` into the placeholders of ``incident``'s drafts nobody has submitted yet
    (audited per draft); returns how many changed. Call inside the caller's transaction."""
    filled = 0
    for draft in Draft.objects.select_for_update().filter(incident=incident, status=DraftStatus.DRAFT):
        body = render_placeholders(draft.body, values)
        title = render_placeholders(draft.title, values)[:160]
        if (body, title) != (draft.body, draft.title):
            audited_update(
                instance=draft,
                by=by,
                action="draft.filled",
                audit_fields=DRAFT_FIELDS,
                changes={"body": body, "title": title},
            )
            filled += 1
    return filled


PUBLIC_SUMMARY_MAX = 300


def _unfilled(draft: Draft) -> list[str]:
    return list(dict.fromkeys(placeholders_in(draft.body) + placeholders_in(draft.title)))


def _refuse_unfilled(draft: Draft, action: str) -> None:
    missing = _unfilled(draft)
    if missing:
        names = ", ".join("{%s}" % name for name in missing)  # noqa: UP031 - literal braces
        raise ResponseError(f"Fill in {names} before {action} this draft.")


@transaction.atomic
def incident_set_public_summary(*, incident: Incident, summary: str, by: Member) -> Incident:
    """Set how the public would name the issue (``{issue}`` in public copy), and fill it into the
    drafts nobody has submitted yet. Responders and up; the title stays internal."""
    _require(by, TRIAGE_INCIDENTS, "describe the issue for the public")
    summary = " ".join((summary or "").split())
    if len(summary) > PUBLIC_SUMMARY_MAX:
        raise ValidationError({"public_summary": f"Keep it under {PUBLIC_SUMMARY_MAX} characters."})
    locked = _lock_incident(incident)
    _refuse_closed(locked)
    if locked.public_summary == summary:
        raise ResponseError("The public name of the issue is already that.")
    old = locked.public_summary
    audited_update(
        instance=locked, by=by, action="incident.public_summary", changes={"public_summary": summary}
    )
    filled = drafts_fill(incident=locked, values={"issue": summary}, by=by) if summary else 0
    timeline_add(
        incident=locked,
        kind="public_summary",
        actor=by,
        text=f"Public name of the issue set: “{summary}”" if summary else "Public name of the issue cleared",
        data={"from": old, "to": summary, "drafts_filled": filled},
    )
    _event(locked, "public_summary", by)
    incident.public_summary = summary
    return incident


@transaction.atomic
def playbook_activate(*, incident: Incident, playbook: Playbook, by: Member) -> Incident:
    """Run ``playbook`` on ``incident``: snapshot its checklist into Tasks, its crisis roles into
    (unassigned) RoleAssignments and its approved templates into Drafts.

    Due times are activation time + each item's offset. Templates are the latest approved version of
    each family, limited to the watch's languages when it names some, with the placeholders we know
    filled in. An incident runs one playbook: a second activation (even a concurrent one) is refused.
    """
    _require(by, TRIAGE_INCIDENTS, "activate playbooks")
    locked = _lock_incident(incident)
    _refuse_closed(locked)
    playbook = Playbook.objects.select_related("scenario").get(pk=playbook.pk)
    if playbook.status != PlaybookStatus.ACTIVE:
        raise ResponseError(
            f"“{playbook}” is {playbook.get_status_display().lower()}; only an active playbook can be activated."
        )
    if locked.playbook_id is not None:
        raise ResponseError("A playbook is already active on this incident; it cannot be activated twice.")
    # The conditional UPDATE is the guarantee: of two racing activations exactly one claims the row.
    now = timezone.now()
    changes: dict[str, Any] = {"playbook": playbook, "updated_at": now}
    if locked.scenario_id is None:
        changes["scenario"] = playbook.scenario
    if not Incident.objects.filter(pk=locked.pk, playbook__isnull=True).update(**changes):
        raise ResponseError("A playbook is already active on this incident; it cannot be activated twice.")
    before = {"playbook": None, "scenario": locked.scenario_id}
    locked.refresh_from_db()

    roles = list(playbook.roles.order_by("order", "name"))
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(
                incident=locked, crisis_role=role, role_name=role.name, responsibilities=role.responsibilities
            )
            for role in roles
        ],
        ignore_conflicts=True,
    )
    items = list(playbook.checklist.select_related("role").order_by("phase", "order", "id"))
    Task.objects.bulk_create(
        [
            Task(
                incident=locked,
                checklist_item=item,
                phase=item.phase,
                order=item.order,
                title=item.title,
                description=item.description,
                role_name=item.role.name if item.role else "",
                due_at=now + timedelta(minutes=item.due_offset_minutes)
                if item.due_offset_minutes is not None
                else None,
            )
            for item in items
        ]
    )
    templates = approved_templates_for(playbook=playbook)
    languages = [lang for lang in (locked.watch.languages or []) if isinstance(lang, str)]
    if languages:
        templates = templates.filter(language__in=languages)
    values = placeholder_values(locked)
    drafts = [
        Draft(
            incident=locked,
            template=template,
            template_version=template.version,
            kind=template.kind,
            channel=template.channel,
            language=template.language,
            title=render_placeholders(template.title, values)[:160],
            body=render_placeholders(template.body, values),
            status=DraftStatus.DRAFT,
        )
        for template in templates
    ]
    Draft.objects.bulk_create(drafts)

    summary = {"tasks": len(items), "roles": len(roles), "drafts": len(drafts)}
    timeline_add(
        incident=locked,
        kind="playbook:activated",
        actor=by,
        at=now,
        text=(
            f"Playbook “{playbook}” activated: {len(items)} task(s), {len(roles)} crisis role(s), "
            f"{len(drafts)} draft(s) from approved templates"
        ),
        data={"playbook": playbook.pk, "version": playbook.version, **summary},
    )
    audit_record(
        actor=by,
        action="incident.playbook.activated",
        target=locked,
        before=before,
        after={
            "playbook": playbook.pk,
            "playbook_version": playbook.version,
            "scenario": locked.scenario_id,
            **summary,
        },
    )
    _event(locked, "playbook:activated", by)
    for field in ("playbook_id", "scenario_id", "updated_at"):
        setattr(incident, field, getattr(locked, field))
    return incident


# --- Tasks -----------------------------------------------------------------------------------


def _set_task_done(task: Task, *, by: Member, done: bool) -> Task:
    _require(by, TRIAGE_INCIDENTS, "complete tasks")
    task = Task.objects.select_for_update().select_related("incident").get(pk=task.pk)
    _refuse_closed(task.incident)
    if done == (task.completed_at is not None):
        raise ResponseError("This task is already done." if done else "This task is not done yet.")
    now = timezone.now()
    verb = "completed" if done else "reopened"
    audited_update(
        instance=task,
        by=by,
        action=f"task.{verb}",
        changes={"completed_at": now, "completed_by": by}
        if done
        else {"completed_at": None, "completed_by": None},
    )
    late = done and task.due_at is not None and now > task.due_at
    timeline_add(
        incident=task.incident,
        kind=f"task:{verb}",
        actor=by,
        at=now,
        text=f"Task {verb}: {task.title}" + (" (after its due time)" if late else ""),
        data={"task": task.pk, "due_at": task.due_at.isoformat() if task.due_at else None},
    )
    _event(task.incident, f"task:{verb}", by)
    return task


@transaction.atomic
def task_complete(*, task: Task, by: Member) -> Task:
    return _set_task_done(task, by=by, done=True)


@transaction.atomic
def task_reopen(*, task: Task, by: Member) -> Task:
    """Undo a completion someone made by mistake (the timeline keeps both)."""
    return _set_task_done(task, by=by, done=False)


# --- Crisis roles ----------------------------------------------------------------------------


@transaction.atomic
def crisis_role_assign(*, assignment: RoleAssignment, user: Member | None, by: Member) -> RoleAssignment:
    """Give a crisis role to a team member (responder, manager or admin); ``None`` unassigns it."""
    _require(by, TRIAGE_INCIDENTS, "assign crisis roles")
    if user is not None and not (user.is_active and user.has_perm(TRIAGE_INCIDENTS)):
        raise ValidationError({"user": "A crisis role goes to an active responder, manager or admin."})
    assignment = RoleAssignment.objects.select_for_update().select_related("incident").get(pk=assignment.pk)
    _refuse_closed(assignment.incident)
    if assignment.user_id == (user.pk if user else None):
        raise ResponseError(
            f"{_username(user)} already holds {assignment.role_name}."
            if user
            else f"{assignment.role_name} is already unassigned."
        )
    audited_update(
        instance=assignment,
        by=by,
        action="incident.role.assigned",
        changes={"user": user, "assigned_by": by, "assigned_at": timezone.now()},
    )
    text = f"{assignment.role_name}: {_username(user)}" if user else f"{assignment.role_name} unassigned"
    timeline_add(
        incident=assignment.incident,
        kind="role:assigned",
        actor=by,
        text=text,
        data={"assignment": assignment.pk, "user": user.pk if user else None},
    )
    _event(assignment.incident, "role:assigned", by)
    return assignment


# --- Drafts ----------------------------------------------------------------------------------


def _lock_draft(draft: Draft) -> Draft:
    return Draft.objects.select_for_update().select_related("incident", "incident__watch").get(pk=draft.pk)


def _draft_timeline(draft: Draft, *, kind: str, text: str, by: Member, **data: Any) -> None:
    label = draft.title or draft.get_kind_display()
    timeline_add(
        incident=draft.incident,
        kind=f"draft:{kind}",
        actor=by,
        text=f"{text}: {label}",
        data={"draft": draft.pk, **data},
    )


@transaction.atomic
def draft_create(
    *,
    incident: Incident,
    by: Member,
    body: str,
    kind: str = "update",
    channel: str = "all",
    language: str = "en",
    title: str = "",
    template: MessageTemplate | None = None,
) -> Draft:
    """A new message for this incident, written by ``by`` (who therefore cannot approve it)."""
    _require(by, TRIAGE_INCIDENTS, "write drafts")
    if not (body or "").strip():
        raise ValidationError({"body": "Write the message."})
    locked = _lock_incident(incident)
    _refuse_closed(locked)
    draft = Draft.objects.create(
        incident=locked,
        template=template,
        template_version=template.version if template else None,
        kind=kind,
        channel=channel,
        language=language,
        title=title.strip()[:160],
        body=body,
        status=DraftStatus.DRAFT,
        author=by,
    )
    _draft_timeline(draft, kind="created", text="Draft written", by=by)
    audit_record(actor=by, action="draft.created", target=draft, after=snapshot(draft, DRAFT_FIELDS))
    _event(locked, "draft:created", by)
    return draft


@transaction.atomic
def draft_create_from_template(*, incident: Incident, template: MessageTemplate, by: Member) -> Draft:
    """A draft from an approved template, placeholders filled with the incident's facts."""
    if template.approval_state != ApprovalState.APPROVED:
        raise ResponseError("Only an approved template can be used for a statement.")
    values = placeholder_values(incident)
    return draft_create(
        incident=incident,
        by=by,
        template=template,
        kind=template.kind,
        channel=template.channel,
        language=template.language,
        title=render_placeholders(template.title, values),
        body=render_placeholders(template.body, values),
    )


@transaction.atomic
def draft_edit(*, draft: Draft, by: Member, **changes: Any) -> Draft:
    """Change a draft's words. ``by`` becomes its author. An approved draft goes back to review:
    what gets published is exactly what a second person approved."""
    _require(by, TRIAGE_INCIDENTS, "edit drafts")
    unknown = set(changes) - DRAFT_EDITABLE
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    if "body" in changes and not (changes["body"] or "").strip():
        raise ValidationError({"body": "A message cannot be empty."})
    draft = _lock_draft(draft)
    _refuse_closed(draft.incident)
    if draft.status == DraftStatus.PUBLISHED:
        raise ResponseError("This message is published; write a new draft (for example an update) instead.")
    changed = [name for name, value in changes.items() if getattr(draft, name) != value]
    if not changed:
        return draft
    update: dict[str, Any] = {name: changes[name] for name in changed}
    update["author"] = by
    back_to_review = draft.status == DraftStatus.APPROVED
    if back_to_review:
        update.update(
            status=DraftStatus.IN_REVIEW, approver=None, approved_at=None, submitted_at=timezone.now()
        )
    audited_update(instance=draft, by=by, action="draft.edited", changes=update, audit_fields=DRAFT_FIELDS)
    _draft_timeline(
        draft,
        kind="edited",
        by=by,
        text="Approved draft edited, back to review" if back_to_review else "Draft edited",
        fields=changed,
    )
    _event(draft.incident, "draft:edited", by)
    return draft


@transaction.atomic
def draft_submit(*, draft: Draft, by: Member) -> Draft:
    """Ask for approval. Placeholders must be filled first; the submitter counts as an author."""
    _require(by, TRIAGE_INCIDENTS, "submit drafts")
    draft = _lock_draft(draft)
    _refuse_closed(draft.incident)
    if draft.status != DraftStatus.DRAFT:
        raise ResponseError(
            f"Only a draft can be submitted; this one is {draft.get_status_display().lower()}."
        )
    _refuse_unfilled(draft, "submitting")
    audited_update(
        instance=draft,
        by=by,
        action="draft.submitted",
        audit_fields=DRAFT_FIELDS,
        changes={
            "status": DraftStatus.IN_REVIEW,
            "submitted_at": timezone.now(),
            "author": draft.author or by,
        },
    )
    _draft_timeline(draft, kind="submitted", text="Draft submitted for review", by=by)
    _event(draft.incident, "draft:submitted", by)
    return draft


@transaction.atomic
def draft_approve(*, draft: Draft, by: Member) -> Draft:
    """A second person approves the words (``by`` ≠ author; the database checks it too)."""
    _require(by, APPROVE_DRAFTS, "approve drafts")
    draft = _lock_draft(draft)
    _refuse_closed(draft.incident)
    if draft.status != DraftStatus.IN_REVIEW:
        raise ResponseError(
            f"Only a draft in review can be approved; this one is {draft.get_status_display().lower()}."
        )
    _refuse_unfilled(draft, "approving")
    if draft.author_id is not None and draft.author_id == by.pk:
        raise ResponseError("You wrote this draft, so someone else must approve it.")
    try:
        with transaction.atomic():
            audited_update(
                instance=draft,
                by=by,
                action="draft.approved",
                audit_fields=DRAFT_FIELDS,
                changes={"status": DraftStatus.APPROVED, "approver": by, "approved_at": timezone.now()},
            )
    except IntegrityError as exc:  # draft_author_is_not_approver, should a race get past the check
        raise ResponseError("You wrote this draft, so someone else must approve it.") from exc
    _draft_timeline(draft, kind="approved", text="Draft approved", by=by)
    _event(draft.incident, "draft:approved", by)
    return draft


@transaction.atomic
def draft_return(*, draft: Draft, by: Member, reason: str = "") -> Draft:
    """Send a draft in review back to its writers instead of approving it."""
    _require(by, APPROVE_DRAFTS, "review drafts")
    draft = _lock_draft(draft)
    _refuse_closed(draft.incident)
    if draft.status != DraftStatus.IN_REVIEW:
        raise ResponseError("Only a draft in review can be sent back.")
    reason = reason.strip()
    audited_update(
        instance=draft,
        by=by,
        action="draft.returned",
        changes={"status": DraftStatus.DRAFT},
        audit_fields=DRAFT_FIELDS,
        extra_after={"reason": reason},
    )
    _draft_timeline(
        draft,
        kind="returned",
        by=by,
        text="Draft sent back" + (f" ({reason})" if reason else ""),
        reason=reason,
    )
    _event(draft.incident, "draft:returned", by)
    return draft


@transaction.atomic
def draft_publish(*, draft: Draft, by: Member, channel: str, url: str = "") -> Draft:
    """Record that the approved words went out: on which channel, at which link, when and by whom."""
    _require(by, TRIAGE_INCIDENTS, "publish statements")
    channel = (channel or "").strip()
    if not channel:
        raise ValidationError({"channel": "Say where the message was published."})
    url = (url or "").strip()
    if url and not safe_url(url):
        raise ValidationError({"url": "The link must be an http(s) URL."})
    draft = _lock_draft(draft)
    _refuse_closed(draft.incident)
    if draft.status != DraftStatus.APPROVED:
        raise ResponseError(
            f"Only an approved draft can be published; this one is {draft.get_status_display().lower()}."
        )
    _refuse_unfilled(draft, "publishing")
    now = timezone.now()
    audited_update(
        instance=draft,
        by=by,
        action="draft.published",
        audit_fields=DRAFT_FIELDS,
        changes={
            "status": DraftStatus.PUBLISHED,
            "published_at": now,
            "published_by": by,
            "published_channel": channel[:40],
            "published_url": url,
        },
    )
    timeline_add(
        incident=draft.incident,
        kind="draft:published",
        actor=by,
        at=now,
        text=f"Published on {channel_name(draft.published_channel)}: {draft.title or draft.get_kind_display()}",
        links=[url] if url else None,
        data={"draft": draft.pk, "channel": draft.published_channel, "url": url, "kind": draft.kind},
    )
    _event(draft.incident, "draft:published", by)
    return draft


# --- Response queue --------------------------------------------------------------------------


@transaction.atomic
def reply_record(*, incident: Incident, mention: Mention, by: Member, text: str = "", url: str = "") -> Reply:
    """Record that someone answered ``mention`` (with the reply's link, its text, or both)."""
    _require(by, TRIAGE_INCIDENTS, "record replies")
    text, url = (text or "").strip(), (url or "").strip()
    if url and not safe_url(url):
        raise ValidationError({"url": "The link must be an http(s) URL."})
    if not text and not url:
        raise ValidationError({"text": "Give the reply's link or its text."})
    locked = _lock_incident(incident)
    _refuse_closed(locked)
    if mention.incident_id != locked.pk:
        raise ValidationError({"mention": "That mention does not belong to this incident."})
    reply = Reply.objects.create(incident=locked, mention=mention, text=text, url=url, replied_by=by)
    who = mention.author or "anonymous"
    timeline_add(
        incident=locked,
        kind="reply",
        actor=by,
        at=reply.replied_at,
        mention=mention,
        text=f"Replied to {who}" + (f": {text}" if text else ""),
        links=[url] if url else None,
        data={"reply": reply.pk, "mention": mention.pk},
    )
    audit_record(
        actor=by,
        action="reply.recorded",
        target=reply,
        after={"mention": mention.pk, "text": text, "url": url},
    )
    _event(locked, "reply", by)
    return reply


@transaction.atomic
def incident_set_first_response(*, incident: Incident, minutes: int, by: Member) -> Incident:
    """Change how soon each negative mention should be answered on this incident (managers)."""
    _require(by, SET_RESPONSE_TARGET, "change the first-response target")
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        raise ValidationError({"minutes": "Give a whole number of minutes."}) from None
    if not 1 <= minutes <= MAX_FIRST_RESPONSE_MINUTES:
        raise ValidationError({"minutes": f"Choose between 1 and {MAX_FIRST_RESPONSE_MINUTES} minutes."})
    locked = _lock_incident(incident)
    _refuse_closed(locked)
    if locked.first_response_minutes == minutes:
        raise ResponseError(f"The first-response target is already {minutes} minutes.")
    old = locked.first_response_minutes
    audited_update(
        instance=locked, by=by, action="incident.first_response", changes={"first_response_minutes": minutes}
    )
    timeline_add(
        incident=locked,
        kind="first-response",
        actor=by,
        text=f"First-response target set to {minutes} minutes (was {old})",
        data={"from": old, "to": minutes},
    )
    _event(locked, "first-response", by)
    incident.first_response_minutes = minutes
    return incident


# --- Evidence --------------------------------------------------------------------------------


def evidence_content(mention: Mention) -> dict[str, str]:
    """The canonical content of a mention that evidence fixes: exact text, author, url, publish time (UTC)."""
    published = mention.published_at
    return {
        "author": mention.author or "",
        "published_at": published.astimezone(UTC).isoformat() if published else "",
        "text": mention.text or "",
        "url": mention.url or "",
    }


def evidence_hash(content: dict[str, str]) -> str:
    """SHA-256 of the content as sorted, compact UTF-8 JSON — anyone can recompute it from the snapshot."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@transaction.atomic
def evidence_capture(
    *, incident: Incident, mention: Mention, by: Member, note: str = ""
) -> tuple[Evidence, bool]:
    """Freeze ``mention`` as evidence for ``incident``; returns ``(evidence, created)``.

    The hash covers the content (text, author, url, published_at), not the capture time: capturing the
    same content twice returns the first snapshot (unique per incident + hash), while a mention whose
    text was edited at the source since gets a second snapshot with a different hash.
    """
    _require(by, TRIAGE_INCIDENTS, "capture evidence")
    locked = _lock_incident(incident)
    if mention.incident_id != locked.pk:
        raise ValidationError({"mention": "That mention does not belong to this incident."})
    content = evidence_content(mention)
    digest = evidence_hash(content)
    existing = Evidence.objects.filter(incident=locked, sha256=digest).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            evidence = Evidence.objects.create(
                incident=locked,
                mention=mention,
                text=content["text"],
                author=content["author"],
                url=content["url"],
                published_at=mention.published_at,
                captured_by=by,
                sha256=digest,
                note=(note or "").strip(),
            )
    except IntegrityError:  # a colleague captured the same content a moment ago
        return Evidence.objects.get(incident=locked, sha256=digest), False
    timeline_add(
        incident=locked,
        kind="evidence",
        actor=by,
        at=evidence.captured_at,
        mention=mention,
        text=f"Evidence captured from {content['author'] or 'anonymous'} (SHA-256 {digest[:12]}…)",
        links=[safe_url(content["url"])] if safe_url(content["url"]) else None,
        data={"evidence": evidence.pk, "sha256": digest},
    )
    audit_record(
        actor=by,
        action="evidence.captured",
        target=evidence,
        after={"mention": mention.pk, "sha256": digest, "note": evidence.note},
    )
    _event(locked, "evidence", by)
    return evidence, True


# --- Adding a mention by hand ----------------------------------------------------------------


@transaction.atomic
def mention_add(*, incident: Incident, mention: Mention, by: Member) -> tuple[Mention, bool]:
    """Attach ``mention`` to ``incident`` by hand (a post from before the crisis start, found in the
    explorer); returns ``(mention, added)``. Adding a mention the incident already owns changes
    nothing (``added`` is False).

    Refused: a closed incident, a mention of another watch, a mention another incident owns (taking
    it would rewrite that incident's record). The attachment is one conditional UPDATE, so two
    members adding the same mention at once attach it once and record it once.
    """
    _require(by, TRIAGE_INCIDENTS, "add mentions to incidents")
    locked = _lock_incident(incident)
    _refuse_closed(locked)
    if mention.watch_id != locked.watch_id:
        raise ResponseError(_("That mention belongs to another watch than this incident's."))
    attached = Mention.objects.filter(pk=mention.pk, incident__isnull=True).update(incident_id=locked.pk)
    if not attached:
        owner = Mention.objects.filter(pk=mention.pk).values_list("incident_id", flat=True).first()
        if owner == locked.pk:
            mention.incident_id = locked.pk
            return mention, False
        raise ResponseError(
            _("That mention already belongs to incident #%(incident)s.") % {"incident": owner}
        )
    mention.incident_id = locked.pk
    who = mention.author or "anonymous"
    timeline_add(
        incident=locked,
        kind="mention-added",
        actor=by,
        mention=mention,
        text=f"Mention by {who} added to the incident by {_username(by)}",
        links=[safe_url(mention.url)] if safe_url(mention.url) else None,
        data={"mention": mention.pk},
    )
    audit_record(
        actor=by,
        action="incident.mention_added",
        target=locked,
        before={"mention": mention.pk, "incident": None},
        after={"mention": mention.pk, "incident": locked.pk},
    )
    _event(locked, "mention:added", by)
    return mention, True
