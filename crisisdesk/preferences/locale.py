"""Applying a member's language and time zone to each request.

The choices are read from the database once, at sign-in or when changed, into the session: the
middleware then costs no query. The language is the member's own choice, else the browser's
(``Accept-Language``) when it names one of ours, else the team's default; the time zone is the
member's, else the team's.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from crisisdesk.preferences.choices import all_zones, language_codes
from crisisdesk.preferences.selectors import Locale

SESSION_LANGUAGE = "crisisdesk_language"
SESSION_TIME_ZONE = "crisisdesk_time_zone"
SESSION_TEAM_LANGUAGE = "crisisdesk_team_language"


def remember_locale(request: HttpRequest, locale: Locale) -> None:
    """Keep ``locale`` in the session for the middleware."""
    request.session[SESSION_LANGUAGE] = locale.language
    request.session[SESSION_TIME_ZONE] = locale.time_zone
    request.session[SESSION_TEAM_LANGUAGE] = locale.team_language


def browser_language(header: str) -> str | None:
    """The first of our languages the ``Accept-Language`` header asks for (by its q order)."""
    ours = language_codes()
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in ours and quality > 0:
            wanted.append((-quality, position, primary))
    return min(wanted)[2] if wanted else None


def _session(request: HttpRequest) -> Mapping[str, Any]:
    """The session, only when the request brings one: reading it marks the response ``Vary:
    Cookie``, which a public page a CDN should cache for everyone must not carry."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return {}
    session: Mapping[str, Any] = getattr(request, "session", {})
    return session


def request_language(request: HttpRequest) -> str:
    session = _session(request)
    chosen = session.get(SESSION_LANGUAGE) or ""
    if chosen in language_codes():
        return chosen
    from_browser = browser_language(request.headers.get("Accept-Language", ""))
    if from_browser:
        return from_browser
    team = session.get(SESSION_TEAM_LANGUAGE) or ""
    return team if team in language_codes() else settings.LANGUAGE_CODE


def request_time_zone(request: HttpRequest) -> str:
    zone = _session(request).get(SESSION_TIME_ZONE) or ""
    return zone if zone in all_zones() else settings.TIME_ZONE


class MemberLocaleMiddleware:
    """Activates the request's language and time zone (after sessions, before the views)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            language, zone = request_language(request), request_time_zone(request)
        except (OperationalError, InterfaceError):
            # The session lives in the database: while it is away, the browser's language and the
            # site's zone, and the view's own database access answers 503 (DatabaseUnavailable).
            language = browser_language(request.headers.get("Accept-Language", "")) or settings.LANGUAGE_CODE
            zone = settings.TIME_ZONE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        # The session middleware adds Cookie when a session was read.
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response
