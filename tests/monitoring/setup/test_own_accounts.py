"""The brand's own accounts: validated on the watch form, the API and the service alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from monitoring.models import Watch
from monitoring.setup.forms import WatchForm
from monitoring.setup.services import own_accounts_clean, watch_update
from tests.factories import WatchFactory
from tests.monitoring.api.test_api_writes import api_for

pytestmark = pytest.mark.django_db


def test_handles_are_trimmed_deduplicated_and_empty_platforms_dropped():
    cleaned = own_accounts_clean(
        {"any": [" @AcmeAir", "acmeair", ""], "mastodon": ["@acme@airline.social"], "rss": []}
    )
    assert cleaned == {"any": ["@AcmeAir"], "mastodon": ["@acme@airline.social"]}


@pytest.mark.parametrize(
    "value", [["@AcmeAir"], {"myspace": ["@a"]}, {"any": "@AcmeAir"}, {"any": ["<script>"]}]
)
def test_it_refuses_what_is_not_accounts_per_platform(value):
    with pytest.raises(ValidationError) as exc:
        own_accounts_clean(value)
    assert "own_accounts" in exc.value.message_dict


def test_the_form_reads_one_platform_per_line():
    form = WatchForm(
        {
            "name": "Acme Air",
            "include_terms": "acme air",
            "own_accounts": "any: @AcmeAir\nmastodon: @acme@airline.social, @acme_help@airline.social",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["own_accounts"] == {
        "any": ["@AcmeAir"],
        "mastodon": ["@acme@airline.social", "@acme_help@airline.social"],
    }
    bad = WatchForm({"name": "Acme", "include_terms": "acme", "own_accounts": "@AcmeAir"})
    assert not bad.is_valid() and "platform: handle" in bad.errors["own_accounts"][0]


def test_a_manager_sets_them_on_the_watch_page_and_the_api(manager, client_for):
    watch = WatchFactory(name="Acme Air")
    client = client_for(manager)
    response = client.post(
        f"/monitoring/watches/{watch.pk}/edit/",
        {
            "name": "Acme Air",
            "include_terms": "acme air",
            "own_accounts": "any: @AcmeAir",
        },
    )
    assert response.status_code in (200, 302)
    assert Watch.objects.get(pk=watch.pk).own_accounts == {"any": ["@AcmeAir"]}
    api = api_for(manager)
    detail = reverse("crisisdesk:watch-detail", args=[watch.pk])
    response = api.patch(detail, {"own_accounts": {"bogus": ["x"]}}, format="json")
    assert response.status_code == 400 and "own_accounts" in str(response.json())
    response = api.patch(detail, {"own_accounts": {"bluesky": ["acmeair.bsky.social"]}}, format="json")
    assert response.status_code == 200 and response.json()["own_accounts"] == {
        "bluesky": ["acmeair.bsky.social"]
    }


def test_the_service_validates_too(manager):
    watch = WatchFactory()
    with pytest.raises(ValidationError):
        watch_update(watch=watch, by=manager, own_accounts={"any": ["not a handle!"]})
