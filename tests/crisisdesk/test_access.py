"""Every page and endpoint checks the role: walks the whole URL list, so new URLs are covered too.

Anonymous visitors are sent to sign in (pages) or refused (API), and a viewer — read only — can
never change state with a POST anywhere.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

# Open on purpose, each with the reason. Anything else must check the role.
PUBLIC = {
    "login": "signing in",
    "logout": "signing out",
    "crisisdesk:source-webhook": "authenticated by the source's HMAC signature, not a session",
    "api-schema": "the OpenAPI description (drf-spectacular's default serve permission)",
    "api-docs": "the API docs page (drf-spectacular's default serve permission)",
    "public:status": "a dark site's public page: only published words, 404 while dark",
    "public:feed": "a dark site's public Atom feed: only published words, 404 while dark",
    "public:subscribe": "asking for a dark site's updates by email (double opt-in, throttled)",
    "public:subscribe_confirm": "confirming a subscription: authorised by the emailed signed token",
    "public:unsubscribe": "one-click unsubscribe: authorised by the emailed signed token",
}
_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_SAMPLE = {"int": "999999", "uuid": str(uuid.UUID(int=7)), "slug": "x", "str": "x", "path": "x"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin" or not isinstance(entry.pattern, RoutePattern):
                continue  # Django's own admin (staff only) is checked separately below
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and isinstance(entry.pattern, RoutePattern):
            route = prefix + str(entry.pattern)
            url = "/" + _PARAM.sub(lambda m: _SAMPLE.get(m.group("converter") or "str", "x"), route)
            name = f"{namespace}{entry.name}" if entry.name else route
            yield pytest.param(name, url, id=name)


def _all_urls():
    return list(_walk(get_resolver().url_patterns))


def _protected():
    return [p for p in _all_urls() if p.values[0] not in PUBLIC]


def test_the_walk_finds_the_core_pages():
    names = {p.values[0] for p in _all_urls()}
    assert {
        "incidents:list",
        "incidents:detail",
        "incidents:transition",
        "team",
        "crisisdesk:incident-acknowledge",
    } <= names


@pytest.mark.parametrize(("name", "url"), _protected())
def test_anonymous_is_sent_to_sign_in_or_refused(name, url):
    client = APIClient() if url.startswith("/api/") else Client()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), f"{method.upper()} {url}: {response.status_code}"
        elif response.status_code != 405:
            assert response.status_code == 302, f"{method.upper()} {url}: {response.status_code}"
            assert response["Location"].startswith("/login/"), (
                f"{method.upper()} {url} → {response['Location']}"
            )


@pytest.fixture
def read_only_member():
    """A viewer without a password (hashing one per parametrised case would cost ~0.5 s each)."""
    user = User.objects.create(username="walker-viewer")
    user.groups.add(Group.objects.get(name="viewer"))
    return user


# What a read-only member may change: their own settings, never the team's data.
VIEWER_MAY_POST = {
    "preferences": "their own language and time zone",
    "preferences-language": "the header's language switcher, for their own pages",
}


@pytest.mark.parametrize(("name", "url"), [p for p in _protected() if p.values[0] not in VIEWER_MAY_POST])
def test_a_viewer_cannot_post_a_change_anywhere(name, url, read_only_member):
    client = APIClient() if url.startswith("/api/") else Client()
    client.force_login(read_only_member)
    response = client.post(url, {})
    assert response.status_code in (403, 405), f"POST {url} as viewer: {response.status_code}"


def test_django_admin_needs_staff(viewer):
    assert Client().get("/django-admin/")["Location"].startswith("/django-admin/login/")
    client = Client()
    client.force_login(viewer)
    assert client.get("/django-admin/").status_code == 302  # not staff: back to the admin sign-in
