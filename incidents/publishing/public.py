"""The public edge: a dark site's live page and its Atom feed, open to anyone, cached for a flood.

These views never touch the session, the signed-in user or a CSRF token, so a response is the same
for every reader of one language and a CDN may keep it: ``Cache-Control: public``, an ``ETag`` (a
conditional request answers 304), ``Vary: Accept-Language``. Behind the CDN, pages are cached with
Django's cache framework under the site's stamp (``incidents.publishing.cache``): a cached hit reads
no database row. A dark or unknown site is a 404, like any missing page.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from crisisdesk.errors import Refusal
from incidents.models import DarkSite
from incidents.publishing.cache import (
    PAGE_TTL_SECONDS,
    cached_stamp,
    page_key,
    remember_stamp,
    site_stamp,
)
from incidents.publishing.selectors import (
    PublicEntry,
    PublicPage,
    public_page,
    reader_language,
    site_by_slug,
    site_languages,
)
from incidents.publishing.subscriptions import (
    SubscriptionLinkInvalid,
    SubscriptionThrottled,
    subscribe_confirm,
    subscribe_request,
    unsubscribe,
)

PUBLIC_TEMPLATE = "incidents/publishing/public_page.html"


def _max_age() -> int:
    return int(getattr(settings, "PUBLIC_PAGE_MAX_AGE", 15))


def render_public_page(page: PublicPage, *, preview: bool = False) -> str:
    """The page's HTML, in the reader's language (no request: no user, session or CSRF token in it).
    Times are UTC, as the page says: one cached page serves readers everywhere."""
    with override(page.language), timezone.override(UTC):
        return render_to_string(PUBLIC_TEMPLATE, {"page": page, "preview": preview})


class SiteFeed(Feed):
    """The site's published updates as Atom, newest first, in the reader's language."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> PublicPage:
        page: PublicPage = kwargs["page"]
        return page

    def title(self, obj: PublicPage) -> str:
        return obj.title

    def link(self, obj: PublicPage) -> str:
        return reverse("public:status", kwargs={"slug": obj.slug})

    def subtitle(self, obj: PublicPage) -> str:
        return _("Updates from %(brand)s") % {"brand": obj.brand}

    def items(self, obj: PublicPage) -> list[PublicEntry]:
        return obj.entries[:50]

    def item_title(self, item: PublicEntry) -> str:
        title = item.title or _("Update")
        return _("Correction: %(title)s") % {"title": title} if item.change_note else title

    def item_description(self, item: PublicEntry) -> str:
        # Feed readers treat this as HTML: give them escaped plain text (Feed does not escape it).
        text = item.body
        if item.change_note:
            text = _("What changed: %(note)s") % {"note": item.change_note} + "\n\n" + text
        return "<p>" + "</p><p>".join(_escape(part) for part in text.split("\n\n")) + "</p>"

    def item_link(self, item: PublicEntry) -> str:
        return self._link + f"#update-{item.id}"

    def item_guid(self, item: PublicEntry) -> str:
        return f"{self._link}#update-{item.id}"

    def item_pubdate(self, item: PublicEntry) -> datetime:
        return item.published_at

    def item_updateddate(self, item: PublicEntry) -> datetime:
        return item.published_at

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._link = reverse("public:status", kwargs={"slug": kwargs["page"].slug})
        return super().__call__(request, *args, **kwargs)


def _escape(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def _load_site(slug: str) -> DarkSite:
    site = site_by_slug(slug)
    if site is None:
        raise Http404(_("No such page."))
    return site


def _cached(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    site: DarkSite | None = None
    stamp = cached_stamp(slug)
    if stamp is None:
        site = _load_site(slug)
        stamp = site_stamp(site)
        remember_stamp(slug, stamp)
    if not stamp["public"]:
        raise Http404(_("No such page."))
    language = reader_language(
        languages=stamp["languages"],
        requested=request.GET.get("lang", ""),
        accept_language=request.headers.get("Accept-Language", ""),
    )
    key = page_key(slug, stamp["version"], language, kind)
    entry = cache.get(key)
    if entry is None:
        site = site or _load_site(slug)
        page = public_page(site, language)
        if kind == "page":
            body, content_type = render_public_page(page).encode(), "text/html; charset=utf-8"
        else:
            with override(language):
                feed_response = SiteFeed()(request, page=page)
            body, content_type = feed_response.content, feed_response["Content-Type"]
        entry = {
            "body": body,
            "content_type": content_type,
            "etag": '"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            "language": language,
        }
        cache.set(key, entry, PAGE_TTL_SECONDS)
    if entry["etag"] in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(entry["body"], content_type=entry["content_type"])
    response["ETag"] = entry["etag"]
    response["Content-Language"] = entry["language"]
    response["Cache-Control"] = (
        f"public, max-age={_max_age()}, stale-while-revalidate=60, stale-if-error=86400"
    )
    response["Vary"] = "Accept-Language"
    return response


@require_safe
def status_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A live or resolved site's page; dark and unknown sites are 404."""
    return _cached(request, slug, "page")


@require_safe
def status_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """The site's Atom feed."""
    return _cached(request, slug, "feed")


# --- Subscriptions ---------------------------------------------------------------------------
# These forms post without a CSRF token on purpose: the page they sit on is the same cached HTML
# for every reader (a token would make it per-visitor), and none of them acts for a signed-in
# member. Forged requests gain nothing: a subscription needs the emailed link (double opt-in),
# and confirming or unsubscribing needs a signed token.

SUBSCRIPTION_TEMPLATE = "incidents/publishing/public_subscription.html"


def _public_site(slug: str) -> DarkSite:
    site = _load_site(slug)
    if not site.is_public:
        raise Http404(_("No such page."))
    return site


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client says unless a proxy we trust set it.
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def _subscription_page(
    request: HttpRequest, site: DarkSite, *, status: int = 200, language: str, **context: Any
) -> HttpResponse:
    with override(language):
        body = render_to_string(
            SUBSCRIPTION_TEMPLATE,
            {"slug": site.slug, "brand": site.watch.name, "language": language, **context},
        )
    response = HttpResponse(body, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _language(request: HttpRequest, site: DarkSite) -> str:
    return reader_language(
        languages=site_languages(site.watch),
        requested=str(request.POST.get("lang") or request.GET.get("lang") or ""),
        accept_language=request.headers.get("Accept-Language", ""),
    )


@csrf_exempt
@require_POST
def subscribe(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask for the updates by email. Every valid address gets the same answer."""
    site = _public_site(slug)
    language = _language(request, site)
    try:
        subscribe_request(
            site=site,
            email=str(request.POST.get("email", ""))[:320],
            language=language,
            ip=_client_ip(request),
        )
    except ValidationError as exc:
        return _subscription_page(request, site, status=400, language=language, error=" ".join(exc.messages))
    except SubscriptionThrottled as exc:
        response = _subscription_page(request, site, status=429, language=language, error=exc.message)
        response["Retry-After"] = "3600"
        return response
    except Refusal as exc:
        return _subscription_page(request, site, status=409, language=language, error=exc.message)
    return _subscription_page(request, site, language=language, outcome="requested")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe_confirm_view(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links; only a person presses it); POST confirms."""
    site = _public_site(slug)
    language = _language(request, site)
    if request.method != "POST":
        return _subscription_page(request, site, language=language, outcome="confirm-ask", token=token)
    try:
        subscribe_confirm(site=site, token=token)
    except SubscriptionLinkInvalid as exc:
        return _subscription_page(request, site, status=400, language=language, error=exc.message)
    return _subscription_page(request, site, language=language, outcome="confirmed")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_view(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows a button; POST unsubscribes (also RFC 8058's one-click POST from a mail client)."""
    site = _load_site(slug)  # a resolved or even dark-again site still honours unsubscribes
    language = _language(request, site)
    if request.method != "POST":
        return _subscription_page(request, site, language=language, outcome="unsubscribe-ask", token=token)
    try:
        unsubscribe(site=site, token=token)
    except SubscriptionLinkInvalid as exc:
        return _subscription_page(request, site, status=400, language=language, error=exc.message)
    return _subscription_page(request, site, language=language, outcome="unsubscribed")
