"""Where public pages are cached: one stamp per site, renewed when anything public changes.

A public page is cached under ``(slug, version, language, page)``. The site's *stamp* (its version,
whether it is public, its languages) lives in the cache too, so a cached hit is two cache reads
and no database query. A change bumps the row's ``version`` in its transaction and writes the new
stamp after commit, so every process serves the new page at once (the cache must be shared between
processes in production: ``CACHE_URL``). An evicted stamp is read from the row and stored again.
"""

from __future__ import annotations

from typing import TypedDict

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from incidents.models import DarkSite
from incidents.publishing.selectors import site_languages

# How long an entry may live. Publishing never waits for it: a new version is a new key.
PAGE_TTL_SECONDS = 24 * 60 * 60


class SiteStamp(TypedDict):
    version: int
    public: bool
    languages: list[str]


def stamp_key(slug: str) -> str:
    return f"darksite:stamp:{slug}"


def page_key(slug: str, version: int, language: str, page: str) -> str:
    return f"darksite:page:{slug}:{version}:{language}:{page}"


def site_stamp(site: DarkSite) -> SiteStamp:
    return {"version": site.version, "public": site.is_public, "languages": site_languages(site.watch)}


def site_version_bump(site: DarkSite) -> None:
    """Give ``site`` a new version in the current transaction; readers see it once it commits."""
    DarkSite.objects.filter(pk=site.pk).update(version=F("version") + 1)
    fresh = DarkSite.objects.select_related("watch").get(pk=site.pk)
    site.version = fresh.version
    stamp, key = site_stamp(fresh), stamp_key(fresh.slug)
    transaction.on_commit(lambda: cache.set(key, stamp, PAGE_TTL_SECONDS))


def cached_stamp(slug: str) -> SiteStamp | None:
    """The site's stamp from the cache, or None when the cache does not hold it."""
    stamp: SiteStamp | None = cache.get(stamp_key(slug))
    return stamp


def remember_stamp(slug: str, stamp: SiteStamp) -> None:
    # add(), not set(): a bump that committed meanwhile must not be overwritten by an older read.
    cache.add(stamp_key(slug), stamp, PAGE_TTL_SECONDS)
