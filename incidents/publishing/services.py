"""Writes for dark sites: preparing one, switching it on and off, publishing approved words to it.

Every write checks the member's permission first, locks the rows it changes, writes an audit row
(and a timeline event when an incident is involved) in the same transaction, and bumps the site's
cache version so the public page changes at once (``incidents.publishing.cache``). Refusals raise
``PublishingError``; bad field values raise ``ValidationError`` keyed by the field.

Published words are never changed: a ``PublicUpdate`` is append-only (a PostgreSQL trigger refuses
UPDATE and DELETE) and a correction is a new update saying what changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisisdesk.audit.services import audit_record, audited_update, snapshot
from crisisdesk.errors import Refusal
from crisisdesk.roles import SWITCH_DARKSITE, TRIAGE_INCIDENTS, ensure_permission
from crisisdesk.types import Member
from incidents.lifecycle.timeline import timeline_add
from incidents.models import (
    OPEN_STATUSES,
    DarkSite,
    DarkSiteContent,
    DarkSiteState,
    Draft,
    DraftStatus,
    Incident,
    PublicUpdate,
    Status,
)
from incidents.publishing.cache import site_version_bump
from incidents.publishing.selectors import public_url, site_languages
from incidents.publishing.subscriptions import update_fan_out
from incidents.response.services import draft_publish, drafts_fill
from incidents.signals import incident_event
from monitoring.models import Watch

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
# Addresses the public app owns under /status/: a site may not take them.
RESERVED_SLUGS = {"static", "api", "admin", "feed"}
MAX_FAQ_ENTRIES = 30
MAX_FAQ_TEXT = 2000
MAX_BACKGROUND = 10_000
MAX_CHANGE_NOTE = 500
DARKSITE_CHANNEL = "darksite"
MAX_NEXT_UPDATE_AHEAD = timedelta(days=14)

SITE_FIELDS = ["slug", "state", "incident", "went_live_at", "resolved_at", "logo"]
CONTENT_FIELDS = [
    "language", "title", "background", "faq", "press_contact", "customer_contact", "resolved_notice",
]  # fmt: skip


class PublishingError(Refusal):
    """A dark-site change the current state refuses; the message is shown to the member as is."""

    code = "publishing_refused"


def _clean_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise ValidationError(
            {
                "slug": _(
                    "Use 1-60 lowercase letters, digits and hyphens (not at either end), "
                    "and not one of: %(reserved)s."
                )
                % {"reserved": ", ".join(sorted(RESERVED_SLUGS))}
            }
        )
    return slug


@transaction.atomic
def darksite_prepare(*, watch: Watch, slug: str, by: Member | None) -> DarkSite:
    """Create ``watch``'s dark site, dark, at /status/<slug>/. One site per watch."""
    ensure_permission(by, SWITCH_DARKSITE, _("Your role may not prepare dark sites."))
    slug = _clean_slug(slug)
    if DarkSite.objects.filter(watch=watch).exists():
        raise PublishingError(_("This watch already has a dark site."))
    if DarkSite.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("Another site already uses this address.")})
    try:
        with transaction.atomic():
            site = DarkSite.objects.create(watch=watch, slug=slug)
    except IntegrityError as exc:  # a colleague prepared it a moment ago
        raise PublishingError(_("This watch already has a dark site, or the address is taken.")) from exc
    audit_record(actor=by, action="darksite.prepared", target=site, after=snapshot(site, SITE_FIELDS))
    return site


def _clean_faq(faq: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    cleaned: list[dict[str, str]] = []
    for item in faq:
        question = " ".join(str(item.get("question", "")).split())
        answer = str(item.get("answer", "")).strip()
        if not question and not answer:
            continue
        if not question or not answer:
            raise ValidationError({"faq": _("Each FAQ entry needs both a question and an answer.")})
        if len(question) > MAX_FAQ_TEXT or len(answer) > MAX_FAQ_TEXT:
            raise ValidationError(
                {"faq": _("Keep each question and answer under %(n)d characters.") % {"n": MAX_FAQ_TEXT}}
            )
        cleaned.append({"question": question, "answer": answer})
    if len(cleaned) > MAX_FAQ_ENTRIES:
        raise ValidationError({"faq": _("At most %(n)d FAQ entries.") % {"n": MAX_FAQ_ENTRIES}})
    return cleaned


@transaction.atomic
def darksite_content_save(
    *,
    site: DarkSite,
    language: str,
    by: Member | None,
    title: str,
    background: str = "",
    faq: Iterable[dict[str, Any]] = (),
    press_contact: str = "",
    customer_contact: str = "",
    resolved_notice: str = "",
) -> DarkSiteContent:
    """Write (or rewrite) the site's prepared words in ``language``, one of the watch's languages.

    Prepared words are not published updates: they may change at any time, live or not, and every
    change is audited with its before and after.
    """
    ensure_permission(by, SWITCH_DARKSITE, _("Your role may not prepare dark sites."))
    site = DarkSite.objects.select_for_update().select_related("watch").get(pk=site.pk)
    languages = site_languages(site.watch)
    if language not in languages:
        raise ValidationError(
            {"language": _("Write in one of the watch's languages: %(l)s.") % {"l": ", ".join(languages)}}
        )
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": _("Give the page a title.")})
    if len(title) > 160:
        raise ValidationError({"title": _("Keep the title under 160 characters.")})
    if len(background or "") > MAX_BACKGROUND:
        raise ValidationError(
            {"background": _("Keep the background under %(n)d characters.") % {"n": MAX_BACKGROUND}}
        )
    values = {
        "title": title,
        "background": (background or "").strip(),
        "faq": _clean_faq(faq),
        "press_contact": " ".join((press_contact or "").split())[:300],
        "customer_contact": " ".join((customer_contact or "").split())[:300],
        "resolved_notice": (resolved_notice or "").strip()[:MAX_BACKGROUND],
    }
    content = DarkSiteContent.objects.select_for_update().filter(site=site, language=language).first()
    if content is None:
        content = DarkSiteContent.objects.create(site=site, language=language, **values)
        audit_record(
            actor=by, action="darksite.content.added", target=content, after=snapshot(content, CONTENT_FIELDS)
        )
    else:
        audited_update(
            instance=content,
            by=by,
            action="darksite.content.changed",
            changes=values,
            audit_fields=CONTENT_FIELDS,
        )
    site_version_bump(site)
    return content


@transaction.atomic
def darksite_go_live(*, site: DarkSite, incident: Incident, by: Member | None) -> DarkSite:
    """Switch the site on for ``incident`` (open, of the site's watch): the public sees it at once.

    A site already live for another incident must be switched off first; a resolved one may go
    live again for a new incident (it then shows that incident's updates).
    """
    ensure_permission(by, SWITCH_DARKSITE, _("Your role may not switch dark sites on or off."))
    site = DarkSite.objects.select_for_update().select_related("watch").get(pk=site.pk)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.watch_id != site.watch_id:
        raise PublishingError(_("This incident belongs to another watch; its site cannot show it."))
    if not locked.is_open:
        raise PublishingError(_("Only an open incident can take a dark site live."))
    if site.state == DarkSiteState.LIVE:
        if site.incident_id == locked.pk:
            raise PublishingError(_("The site is already live for this incident."))
        raise PublishingError(_("The site is live for another incident; switch it off first."))
    if not site.contents.exists():
        raise PublishingError(_("Prepare the site's words (title, background, FAQ) before it goes live."))
    now = timezone.now()
    audited_update(
        instance=site,
        by=by,
        action="darksite.live",
        audit_fields=SITE_FIELDS,
        changes={"state": DarkSiteState.LIVE, "incident": locked, "went_live_at": now, "resolved_at": None},
    )
    # Drafts written before the site existed still say {incident_url}: they point here now.
    filled = drafts_fill(incident=locked, values={"incident_url": public_url(site)}, by=by)
    timeline_add(
        incident=locked,
        kind="darksite:live",
        actor=by,
        at=now,
        text=_("Dark site switched on: %(url)s") % {"url": public_url(site)},
        links=[public_url(site)],
        data={"site": site.pk, "drafts_filled": filled},
    )
    site_version_bump(site)
    incident_event.send(sender=Incident, incident=locked, event="darksite:live", actor=by)
    return site


@transaction.atomic
def darksite_switch_off(*, site: DarkSite, by: Member | None) -> DarkSite:
    """Switch a live site off: it shows its resolved notice above the same, unchanged history."""
    ensure_permission(by, SWITCH_DARKSITE, _("Your role may not switch dark sites on or off."))
    site = DarkSite.objects.select_for_update(of=("self",)).select_related("incident").get(pk=site.pk)
    if site.state != DarkSiteState.LIVE or site.incident is None:
        raise PublishingError(_("The site is not live."))
    now = timezone.now()
    audited_update(
        instance=site,
        by=by,
        action="darksite.resolved",
        audit_fields=SITE_FIELDS,
        changes={"state": DarkSiteState.RESOLVED, "resolved_at": now},
    )
    timeline_add(
        incident=site.incident,
        kind="darksite:resolved",
        actor=by,
        at=now,
        text=_("Dark site switched off; it shows the resolved notice and keeps its updates"),
        data={"site": site.pk},
    )
    site_version_bump(site)
    incident_event.send(sender=Incident, incident=site.incident, event="darksite:resolved", actor=by)
    return site


def _clean_next_update(due: datetime | None, now: datetime) -> datetime | None:
    if due is None:
        return None
    if due <= now:
        raise ValidationError(
            {"next_update_due": _("The next update must be promised for a time still ahead.")}
        )
    if due > now + MAX_NEXT_UPDATE_AHEAD:
        raise ValidationError({"next_update_due": _("Promise the next update within 14 days.")})
    return due


@transaction.atomic
def darksite_publish(
    *,
    draft: Draft,
    by: Member,
    translation_of: PublicUpdate | None = None,
    corrects: PublicUpdate | None = None,
    change_note: str = "",
    next_update_due: datetime | None = None,
) -> PublicUpdate:
    """Publish an approved draft on its incident's live dark site; it shows there at once.

    The draft is recorded as published on the ``darksite`` channel (with the ledger of who wrote,
    approved and published it) and its words are copied into an append-only ``PublicUpdate``.
    ``translation_of`` makes it that update's version in the draft's language; ``corrects`` makes
    it a correction of an earlier update, and ``change_note`` must say what changed.
    ``next_update_due`` is the promise of the next update (shown on the page, kept on the incident).
    """
    ensure_permission(by, TRIAGE_INCIDENTS, _("Your role may not publish statements."))
    locked_draft = Draft.objects.select_for_update().select_related("incident").get(pk=draft.pk)
    incident = locked_draft.incident
    site = DarkSite.objects.select_for_update().filter(incident=incident, state=DarkSiteState.LIVE).first()
    if site is None:
        raise PublishingError(_("This incident has no live dark site; switch one on first."))
    if incident.status == Status.CLOSED:
        raise PublishingError(_("This incident is closed; its record can no longer change."))
    if locked_draft.status != DraftStatus.APPROVED:
        raise PublishingError(_("Only an approved draft can be published on the dark site."))
    change_note = " ".join((change_note or "").split())
    if len(change_note) > MAX_CHANGE_NOTE:
        raise ValidationError({"change_note": _("Keep it under %(n)d characters.") % {"n": MAX_CHANGE_NOTE}})
    if translation_of is not None and corrects is not None:
        raise ValidationError(
            {"corrects": _("A translation follows its original; correct the original instead.")}
        )
    for name, other in (("translation_of", translation_of), ("corrects", corrects)):
        if other is not None and (other.site_id != site.pk or other.incident_id != incident.pk):
            raise ValidationError({name: _("Choose an update published on this site for this incident.")})
        if other is not None and other.translation_of_id is not None:
            raise ValidationError({name: _("Choose the original update, not one of its translations.")})
    if translation_of is not None and (
        translation_of.language == locked_draft.language
        or translation_of.translations.filter(language=locked_draft.language).exists()
    ):
        raise PublishingError(_("That update is already published in this language."))
    if corrects is not None and not change_note:
        raise ValidationError({"change_note": _("Say what this correction changes.")})
    now = timezone.now()
    next_update_due = _clean_next_update(next_update_due, now)

    draft_publish(draft=locked_draft, by=by, channel=DARKSITE_CHANNEL, url=public_url(site))
    update = PublicUpdate.objects.create(
        site=site,
        incident=incident,
        draft=locked_draft,
        language=locked_draft.language,
        title=locked_draft.title,
        body=locked_draft.body,
        published_at=locked_draft.published_at or now,
        translation_of=translation_of,
        corrects=corrects,
        change_note=change_note,
    )
    audit_record(
        actor=by,
        action="darksite.published",
        target=update,
        after={
            "site": site.pk,
            "draft": locked_draft.pk,
            "language": update.language,
            "translation_of": translation_of.pk if translation_of else None,
            "corrects": corrects.pk if corrects else None,
            "change_note": change_note,
        },
    )
    if corrects is not None:
        timeline_add(
            incident=incident,
            kind="darksite:correction",
            actor=by,
            at=now,
            text=_("Correction published on the dark site: %(note)s") % {"note": change_note},
            data={"update": update.pk, "corrects": corrects.pk},
        )
    # A published update keeps the last promise: it sets the next one, or clears the one it kept.
    if next_update_due is not None or incident.next_update_due is not None:
        _set_next_update_due(incident, next_update_due, by=by, source="published update")
    update.site = site
    update_fan_out(update=update)
    site_version_bump(site)
    return update


def _set_next_update_due(incident: Incident, due: datetime | None, *, by: Member | None, source: str) -> None:
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    audited_update(
        instance=locked,
        by=by,
        action="incident.next_update_due",
        changes={"next_update_due": due, "next_update_reminded_at": None},
        audit_fields=["next_update_due"],
    )
    timeline_add(
        incident=locked,
        kind="next-update-due",
        actor=by,
        text=(
            _("Next update promised by %(due)s (%(source)s)")
            % {"due": due.strftime("%Y-%m-%d %H:%M UTC"), "source": source}
            if due
            else _("Next update promise cleared")
        ),
        data={"due": due.isoformat() if due else None, "source": source},
    )
    incident.next_update_due = due


@transaction.atomic
def incident_set_next_update_due(*, incident: Incident, due: datetime | None, by: Member | None) -> Incident:
    """Set (or clear, with None) by hand when the next public update is due."""
    ensure_permission(by, TRIAGE_INCIDENTS, _("Your role may not promise updates."))
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if not locked.is_open:
        raise PublishingError(_("Only an open incident promises further updates."))
    due = _clean_next_update(due, timezone.now())
    if locked.next_update_due == due:
        raise PublishingError(_("The next update is already due then."))
    _set_next_update_due(locked, due, by=by, source="set by hand")
    incident.next_update_due = due
    for site in DarkSite.objects.filter(incident=locked, state=DarkSiteState.LIVE):
        site_version_bump(site)
    return incident


LOGO_PREFIXES = ("data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,")
MAX_LOGO_CHARS = 140_000  # 100 KB of image in base64


@transaction.atomic
def darksite_set_logo(*, site: DarkSite, logo: str, by: Member | None) -> DarkSite:
    """Set (or clear, with "") the site's logo: a base64 PNG, JPEG or GIF ``data:`` URI."""
    ensure_permission(by, SWITCH_DARKSITE, _("Your role may not prepare dark sites."))
    logo = (logo or "").strip()
    if logo and (not logo.startswith(LOGO_PREFIXES) or len(logo) > MAX_LOGO_CHARS):
        raise ValidationError({"logo": _("Upload a PNG, JPEG or GIF image of at most 100 KB.")})
    site = DarkSite.objects.select_for_update().get(pk=site.pk)
    audited_update(
        instance=site, by=by, action="darksite.logo", changes={"logo": logo}, audit_fields=["slug"],
        extra_after={"logo_bytes": len(logo)},
    )  # fmt: skip
    site_version_bump(site)
    return site


@transaction.atomic
def incident_remind_overdue_update(*, incident_id: int) -> bool:
    """Tell the team that an open incident's promised public update is overdue, once per promise.

    Claims the reminder with a conditional UPDATE (two sweepers never remind twice), writes the
    timeline event and audit row, and sends ``incident_event`` so the incident's notification
    channels hear of it (the owner among them). Returns whether this call reminded.
    """
    now = timezone.now()
    claimed = Incident.objects.filter(
        pk=incident_id,
        status__in=[status.value for status in OPEN_STATUSES],
        next_update_due__lt=now,
        next_update_reminded_at__isnull=True,
    ).update(next_update_reminded_at=now)
    if not claimed:
        return False
    incident = Incident.objects.select_related("owner").get(pk=incident_id)
    due = incident.next_update_due
    assert due is not None  # the claim's filter
    owner = incident.owner.get_username() if incident.owner else _("nobody (no owner)")
    timeline_add(
        incident=incident,
        kind="next-update-overdue",
        at=now,
        text=_("The next public update was promised by %(due)s and is overdue; owner: %(owner)s")
        % {"due": due.strftime("%Y-%m-%d %H:%M UTC"), "owner": owner},
        data={"due": due.isoformat()},
    )
    audit_record(
        actor=None,
        action="incident.next_update_overdue",
        target=incident,
        after={"next_update_due": due.isoformat(), "reminded_at": now.isoformat()},
    )
    incident_event.send(
        sender=Incident, incident=incident, event=f"update-overdue:{int(due.timestamp())}", actor=None
    )
    return True
