"""Each member's language and time zone, with the browser's language and the team's defaults
behind them; the header's switcher; the team defaults are an admin's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crisisdesk.models import AuditRecord, MemberPreferences, TeamSettings
from crisisdesk.preferences.locale import browser_language
from crisisdesk.preferences.services import PreferencesError, preferences_set, team_defaults_set
from tests.conftest import PASSWORD
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _signed_in(client, user, **headers):
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, **headers)
    return client


def _lang(response) -> str:
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("tr-TR,tr;q=0.9,en;q=0.8", "tr"),
        ("de-DE,de;q=0.9,pl;q=0.5", "pl"),
        ("en;q=0.2, ms;q=0.8", "ms"),
        ("id", "id"),
        ("de, fr", None),
        ("", None),
        ("tr;q=abc, pl", "pl"),
        ("tr;q=0", None),
    ],
)
def test_the_browser_language_is_the_best_of_ours_it_asks_for(header, expected):
    assert browser_language(header) == expected


def test_a_member_who_chose_nothing_gets_the_browsers_language_then_the_teams(
    client, responder, admin_member
):
    team_defaults_set(language="id", time_zone="Asia/Jakarta", by=admin_member)
    _signed_in(client, responder)
    assert _lang(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="pl-PL,pl;q=0.9")) == "pl"
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="de-DE")
    assert _lang(response) == "id" and response["Content-Language"] == "id"
    assert "Accept-Language" in response["Vary"]


def test_a_members_own_language_and_zone_win_and_show_on_the_incident_page(client, responder):
    _signed_in(client, responder)
    response = client.post(reverse("preferences"), {"language": "tr", "time_zone": "Europe/Istanbul"})
    assert response.status_code == 302
    incident = IncidentFactory()
    page = client.get(reverse("incidents:detail", args=[incident.pk]), HTTP_ACCEPT_LANGUAGE="pl")
    assert _lang(page) == "tr"
    assert "Times in Europe/Istanbul" in page.content.decode()
    row = MemberPreferences.objects.get(member=responder)
    assert (row.language, row.time_zone) == ("tr", "Europe/Istanbul")
    audit = AuditRecord.objects.get(action="preferences.updated")
    assert audit.actor == responder and audit.after == {"language": "tr", "time_zone": "Europe/Istanbul"}


def test_the_choices_survive_signing_in_again(client, responder):
    preferences_set(member=responder, language="ms", time_zone="Asia/Kuala_Lumpur", by=responder)
    _signed_in(client, responder)
    assert _lang(client.get(reverse("home"))) == "ms"


def test_the_header_switcher_sets_the_language_and_goes_back_safely(client, viewer):
    _signed_in(client, viewer)
    back = reverse("incidents:list")
    response = client.post(reverse("preferences-language"), {"language": "pl", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert _lang(client.get(back)) == "pl"
    outside = client.post(
        reverse("preferences-language"), {"language": "tr", "next": "https://evil.example/"}
    )
    assert outside["Location"] == "/"
    html = client.get(back).content.decode()
    assert 'name="language"' in html and '<option value="tr" selected>' in html


@pytest.mark.parametrize(
    ("language", "zone"), [("xx", "UTC"), ("tr", "Mars/Olympus"), ("tr", "../../etc/passwd")]
)
def test_what_we_do_not_offer_is_refused_with_a_message(language, zone, client, responder):
    _signed_in(client, responder)
    response = client.post(reverse("preferences"), {"language": language, "time_zone": zone})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    with pytest.raises(PreferencesError):
        preferences_set(member=responder, language=language, time_zone=zone, by=responder)
    assert not MemberPreferences.objects.exists()


def test_only_admins_set_the_team_defaults_or_someone_elses_preferences(
    client_for, manager, admin_member, responder
):
    response = client_for(manager).post(reverse("team-defaults"), {"language": "tr", "time_zone": "UTC"})
    assert response.status_code == 403
    with pytest.raises(Exception, match="Only admins"):
        preferences_set(member=responder, language="tr", time_zone="", by=manager)
    response = client_for(admin_member).post(
        reverse("team-defaults"), {"language": "tr", "time_zone": "Europe/Istanbul"}
    )
    assert response.status_code == 302
    assert (TeamSettings.objects.get(pk=1).language, TeamSettings.objects.get(pk=1).time_zone) == (
        "tr",
        "Europe/Istanbul",
    )
    assert AuditRecord.objects.filter(action="team.defaults", actor=admin_member).exists()
    assert "Team defaults" in client_for(admin_member).get(reverse("team")).content.decode()


def test_the_team_zone_applies_to_members_without_their_own(client, admin_member, viewer):
    team_defaults_set(language="en", time_zone="Asia/Jakarta", by=admin_member)
    _signed_in(client, viewer)
    incident = IncidentFactory()
    assert (
        "Times in Asia/Jakarta"
        in client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    )


def test_the_switcher_keeps_a_zone_the_member_chose_even_when_it_is_the_teams(
    client, admin_member, responder
):
    team_defaults_set(language="en", time_zone="Europe/Warsaw", by=admin_member)
    preferences_set(member=responder, language="", time_zone="Europe/Warsaw", by=responder)
    _signed_in(client, responder)
    client.post(reverse("preferences-language"), {"language": "pl", "next": "/"})
    row = MemberPreferences.objects.get(member=responder)
    assert (row.language, row.time_zone) == ("pl", "Europe/Warsaw")


def test_reading_the_team_defaults_writes_nothing():
    from crisisdesk.preferences.selectors import team_settings

    assert (team_settings().language, team_settings().time_zone) == ("en", "UTC")
    assert not TeamSettings.objects.exists()
