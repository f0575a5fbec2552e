"""Reads for dark sites: the team's pages and the public page's content.

``public_page`` is the only way public pages get data, and it reads only what was prepared for the
public (a site's words) or published on it (``PublicUpdate``): never mentions, notes, members,
drafts or the incident's internal title.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from incidents.models import (
    OPEN_STATUSES,
    DarkSite,
    DarkSiteContent,
    DarkSiteState,
    Draft,
    DraftStatus,
    Incident,
    PublicUpdate,
)
from monitoring.models import Watch
from playbooks.constants import LANGUAGES

DEFAULT_LANGUAGE = "en"


def public_url(site: DarkSite) -> str:
    """The site's absolute public address (what ``{incident_url}`` becomes in statements)."""
    base: str = settings.SITE_URL
    return base.rstrip("/") + reverse("public:status", kwargs={"slug": site.slug})


def site_languages(watch: Watch) -> list[str]:
    """The languages a watch's site is written in: the watch's own, in order (first is the default),
    or English alone when the watch names none."""
    languages = [lang for lang in (watch.languages or []) if isinstance(lang, str) and lang in LANGUAGES]
    return list(dict.fromkeys(languages)) or [DEFAULT_LANGUAGE]


def reader_language(*, languages: list[str], requested: str = "", accept_language: str = "") -> str:
    """The language to show a reader: ``requested`` (``?lang=``) when the site has it, else the best
    of the browser's ``Accept-Language`` the site has, else the site's first language."""
    requested = (requested or "").strip().lower()
    if requested in languages:
        return requested
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "")[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary and quality > 0:
            weighted.append((-quality, position, primary))
    for _, _, primary in sorted(weighted):
        if primary in languages:
            return primary
    return languages[0]


def overdue_update_incident_ids(*, now: datetime, limit: int = 500) -> list[int]:
    """Open incidents whose promised public update is overdue and not yet reminded."""
    return list(
        Incident.objects.filter(
            status__in=[status.value for status in OPEN_STATUSES],
            next_update_due__lt=now,
            next_update_reminded_at__isnull=True,
        )
        .order_by("next_update_due")
        .values_list("id", flat=True)[:limit]
    )


def site_for_watch(watch: Watch) -> DarkSite | None:
    return DarkSite.objects.filter(watch=watch).first()


def site_by_slug(slug: str) -> DarkSite | None:
    return DarkSite.objects.select_related("watch", "incident").filter(slug=slug).first()


def site_list() -> QuerySet[Watch]:
    """Every watch with its dark site (or none yet), for the team's dark-site list."""
    return Watch.objects.select_related("dark_site", "dark_site__incident").order_by("name")


def site_contents(site: DarkSite) -> dict[str, DarkSiteContent]:
    return {content.language: content for content in site.contents.all()}


def publishable_drafts(incident: Incident) -> QuerySet[Draft]:
    """Approved drafts of ``incident`` that may go on its live site."""
    return Draft.objects.filter(incident=incident, status=DraftStatus.APPROVED).order_by("created_at", "id")


def published_originals(site: DarkSite, incident: Incident) -> QuerySet[PublicUpdate]:
    """The updates (not translations) published on ``site`` for ``incident``, newest first."""
    return PublicUpdate.objects.filter(site=site, incident=incident, translation_of__isnull=True)


@dataclass(frozen=True)
class PublicEntry:
    """One published update as a reader sees it, in one language (``id``: the original update's)."""

    id: int
    title: str
    body: str
    language: str
    published_at: datetime
    change_note: str = ""
    corrects_published_at: datetime | None = None


@dataclass(frozen=True)
class PublicPage:
    """Everything a public page shows. Built only from prepared and published words."""

    slug: str
    brand: str
    language: str
    languages: list[str]
    state: str
    title: str
    background: str = ""
    logo: str = ""
    faq: list[dict[str, str]] = field(default_factory=list)
    press_contact: str = ""
    customer_contact: str = ""
    resolved_notice: str = ""
    resolved_at: datetime | None = None
    went_live_at: datetime | None = None
    next_update_due: datetime | None = None
    entries: list[PublicEntry] = field(default_factory=list)

    @property
    def is_live(self) -> bool:
        return self.state == DarkSiteState.LIVE

    @property
    def is_resolved(self) -> bool:
        return self.state == DarkSiteState.RESOLVED

    @property
    def updated_at(self) -> datetime | None:
        times = [entry.published_at for entry in self.entries] + [self.went_live_at, self.resolved_at]
        known = [moment for moment in times if moment is not None]
        return max(known) if known else None


def _in_language(update: PublicUpdate, language: str, fallback: str) -> PublicUpdate:
    versions = {update.language: update}
    for translation in update.translations.all():
        versions.setdefault(translation.language, translation)
    return versions.get(language) or versions.get(fallback) or update


def public_page(site: DarkSite, language: str) -> PublicPage:
    """The page for ``site`` in ``language``: the prepared words in that language (else the first
    language's, else any), and each published update in that language when a translation was
    published, else in the site's first language, else as first published. Four queries."""
    languages = site_languages(site.watch)
    first = languages[0]
    contents = site_contents(site)
    content = contents.get(language) or contents.get(first) or next(iter(contents.values()), None)
    entries: list[PublicEntry] = []
    incident = site.incident
    if incident is not None and site.is_public:
        updates = (
            published_originals(site, incident)
            .select_related("corrects")
            .prefetch_related(Prefetch("translations", queryset=PublicUpdate.objects.order_by("id")))
        )
        for update in updates:
            shown = _in_language(update, language, first)
            entries.append(
                PublicEntry(
                    id=update.pk,
                    title=shown.title,
                    body=shown.body,
                    language=shown.language,
                    published_at=update.published_at,
                    change_note=update.change_note,
                    corrects_published_at=update.corrects.published_at if update.corrects else None,
                )
            )
    faq = [
        {"question": str(item.get("question", "")), "answer": str(item.get("answer", ""))}
        for item in (content.faq if content else [])
        if isinstance(item, dict)
    ]
    return PublicPage(
        slug=site.slug,
        brand=site.watch.name,
        language=language,
        languages=languages,
        state=site.state,
        title=content.title if content else site.watch.name,
        background=content.background if content else "",
        logo=site.logo,
        faq=faq,
        press_contact=content.press_contact if content else "",
        customer_contact=content.customer_contact if content else "",
        resolved_notice=content.resolved_notice if content else "",
        resolved_at=site.resolved_at if site.state == DarkSiteState.RESOLVED else None,
        went_live_at=site.went_live_at if site.is_public else None,
        next_update_due=incident.next_update_due
        if incident is not None and site.state == DarkSiteState.LIVE
        else None,
        entries=entries,
    )
