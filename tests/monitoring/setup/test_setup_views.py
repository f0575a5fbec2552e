"""Setup pages: watches, sources (setup, health), rules (edit + backtest).

Every monitoring write page is for managers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crisisdesk.models import AuditRecord
from monitoring.intake.buckets import WIDTH, bucket_start
from monitoring.models import Bucket, Rule, Source, SourceHealth, SourceKind, Watch
from tests.factories import IncidentFactory, MentionFactory, RuleFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def watch() -> Watch:
    return WatchFactory(name="Acme Air", include_terms=["acme air", "acmeair"])


def text_of(response) -> str:
    return response.content.decode()


# --- Permissions ----------------------------------------------------------------------------------


def write_urls(watch: Watch) -> list[tuple[str, str]]:
    source = SourceFactory(watch=watch, kind="rss", config={"url": "https://example.org/feed"})
    webhook = SourceFactory(watch=watch, kind="webhook", name="Hook")
    rule = RuleFactory(watch=watch)
    return [
        ("get", reverse("monitoring:watch_create")),
        ("post", reverse("monitoring:watch_create")),
        ("post", reverse("monitoring:watch_edit", args=[watch.pk])),
        ("get", reverse("monitoring:source_create", args=[watch.pk]) + "?kind=rss"),
        ("post", reverse("monitoring:source_create", args=[watch.pk])),
        ("get", reverse("monitoring:source_setup", args=[webhook.pk])),
        ("post", reverse("monitoring:source_setup", args=[source.pk])),
        ("post", reverse("monitoring:source_pause", args=[source.pk])),
        ("post", reverse("monitoring:source_resume", args=[source.pk])),
        ("post", reverse("monitoring:source_poll_now", args=[source.pk])),
        ("post", reverse("monitoring:source_rotate_secret", args=[webhook.pk])),
        ("post", reverse("monitoring:source_restart_drill", args=[source.pk])),
        ("post", reverse("monitoring:rule_create", args=[watch.pk])),
        ("post", reverse("monitoring:rule_edit", args=[rule.pk])),
        ("post", reverse("monitoring:rule_delete", args=[rule.pk])),
        ("get", reverse("monitoring:rule_backtest", args=[rule.pk])),
        ("get", reverse("monitoring:import_upload")),
        ("post", reverse("monitoring:import_upload")),
        ("get", reverse("monitoring:import_status", args=["0" * 32])),
        ("post", reverse("monitoring:import_retry", args=["0" * 32])),
    ]


@pytest.mark.parametrize("persona", ["viewer", "responder"])
def test_it_refuses_every_write_to_viewers_and_responders(request, client_for, watch, persona):
    client = client_for(request.getfixturevalue(persona))
    for method, url in write_urls(watch):
        response = getattr(client, method)(url, {"name": "x"})
        assert response.status_code == 403, (method, url)
    assert not AuditRecord.objects.exists()
    assert Watch.objects.count() == 1


@pytest.mark.parametrize("persona", ["viewer", "responder", "manager"])
def test_every_role_reads_the_pages(request, client_for, watch, persona):
    client = client_for(request.getfixturevalue(persona))
    for url in (
        reverse("monitoring:watches"),
        reverse("monitoring:watch_detail", args=[watch.pk]),
        reverse("monitoring:sources"),
        reverse("monitoring:rules", args=[watch.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_it_sends_anonymous_visitors_to_sign_in(client, watch):
    response = client.get(reverse("monitoring:watches"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_nav_links_to_monitoring(client_for, viewer):
    response = client_for(viewer).get(reverse("incidents:list"))
    assert f'href="{reverse("monitoring:watches")}"' in text_of(response)


# --- Watches --------------------------------------------------------------------------------------


def test_the_watch_list_shows_volume_negative_share_incident_and_source_health(
    client_for, viewer, watch, django_assert_max_num_queries
):
    start = bucket_start(timezone.now())
    Bucket.objects.create(watch=watch, start=start - WIDTH, volume=30, negative=12)
    Bucket.objects.create(watch=watch, start=start, volume=10, negative=8)
    Bucket.objects.create(watch=watch, start=start - timedelta(hours=30), volume=500, negative=0)  # too old
    incident = IncidentFactory(watch=watch, title="Lost bags at IST")
    SourceFactory(watch=watch, kind="rss", health=SourceHealth.FAILING)
    SourceFactory(watch=watch, kind="webhook", health=SourceHealth.OK)
    for n in range(5):  # more watches must not mean more queries
        other = WatchFactory(name=f"Other {n}")
        SourceFactory(watch=other)
        Bucket.objects.create(watch=other, start=start, volume=n)

    client = client_for(viewer)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("monitoring:watches"))

    page = text_of(response)
    row = page[page.index("Acme Air") : page.index("Other 0")]
    assert ">40<" in row  # 24 h volume
    assert "50%" in row  # 20 of 40 negative
    assert reverse("incidents:detail", args=[incident.pk]) in row
    assert "1 failing" in row and "1 ok" in row
    assert "1 source needs attention" in page


def test_the_watch_page_draws_its_volume_from_buckets_through_json_script(
    client_for, viewer, watch, django_assert_max_num_queries
):
    start = bucket_start(timezone.now())
    Bucket.objects.create(watch=watch, start=start - WIDTH, volume=7, negative=3)
    MentionFactory(source=SourceFactory(watch=watch), text="<script>alert(1)</script> Acme Air")
    RuleFactory(watch=watch, name="Volume")

    client = client_for(viewer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("monitoring:watch_detail", args=[watch.pk]))

    page = text_of(response)
    assert '<script id="volume-series" type="application/json">' in page
    assert "chart-4.6.1.umd.min.js" in page and "js/monitoring.js" in page
    series = response.context["series"]
    assert len(series["volume"]) == 289 and series["volume"][-2:] == [7, 0] and series["negative"][-2] == 3
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_a_manager_creates_a_watch_with_multilingual_terms(client_for, manager):
    response = client_for(manager).post(
        reverse("monitoring:watch_create"),
        {
            "name": "Acme Air",
            "include_terms": "Acme Air\nacme havayolları, Acme Linie Lotnicze",
            "exclude_terms": "acme anvil",
            "languages": "en, TR, pl",
            "description": "",
        },
    )

    watch = Watch.objects.get(name="Acme Air")
    assert response.status_code == 302 and response["Location"] == reverse(
        "monitoring:watch_detail", args=[watch.pk]
    )
    assert watch.include_terms == ["Acme Air", "acme havayolları", "Acme Linie Lotnicze"]
    assert watch.languages == ["en", "tr", "pl"]
    assert watch.rules.count() == 4
    assert AuditRecord.objects.filter(action="watch.created", actor=manager).exists()


def test_the_watch_form_names_the_bad_field(client_for, manager, watch):
    response = client_for(manager).post(
        reverse("monitoring:watch_edit", args=[watch.pk]),
        {
            "name": "Acme Air",
            "include_terms": "acme",
            "languages": "english",
        },
    )
    assert response.status_code == 200
    assert "Not a language code: english" in text_of(response)


# --- Sources --------------------------------------------------------------------------------------


def test_the_sources_page_puts_a_dead_feed_first_and_says_why(
    client_for, viewer, watch, django_assert_max_num_queries
):
    SourceFactory(
        watch=watch,
        name="Healthy hook",
        kind="webhook",
        health=SourceHealth.OK,
        last_success_at=timezone.now(),
    )
    SourceFactory(
        watch=watch,
        name="Dead feed",
        kind="rss",
        health=SourceHealth.FAILING,
        consecutive_failures=4,
        last_error="HTTP 403 from feed: <title>Forbidden</title>",
        last_error_at=timezone.now(),
    )
    for n in range(5):
        SourceFactory(watch=WatchFactory(name=f"W{n}"), kind="rss", health=SourceHealth.SILENT)

    client = client_for(viewer)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("monitoring:sources"))

    page = text_of(response)
    assert "6 sources not delivering" in page
    assert page.index("Dead feed") < page.index("Healthy hook")
    assert "HTTP 403 from feed: &lt;title&gt;Forbidden&lt;/title&gt;" in page
    assert 'class="badge health-failing"' in page
    # Viewers get no link to the setup page (where secrets live).
    assert reverse("monitoring:source_setup", args=[Source.objects.get(name="Dead feed").pk]) not in page


@pytest.mark.parametrize("kind", SourceKind.values)
def test_every_kind_has_a_setup_form(client_for, manager, watch, kind):
    response = client_for(manager).get(reverse("monitoring:source_create", args=[watch.pk]) + f"?kind={kind}")
    assert response.status_code == 200
    assert 'name="cfg_' in text_of(response) or kind in ("bluesky",)


def test_choosing_no_kind_shows_the_kind_picker(client_for, manager, watch):
    response = client_for(manager).get(reverse("monitoring:source_create", args=[watch.pk]))
    assert "Kind of source" in text_of(response)


def test_a_bad_feed_url_is_a_field_error_not_a_500(client_for, manager, watch):
    url = reverse("monitoring:source_create", args=[watch.pk])
    response = client_for(manager).post(
        url, {"kind": "rss", "name": "Alerts", "poll_interval": 300, "cfg_url": "not a url"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["cfg_url"] == ["Enter an absolute http(s) URL."]
    assert "Enter an absolute http(s) URL." in text_of(response)
    assert not Source.objects.exists()


def test_a_connector_error_lands_on_the_field_it_names(client_for, manager, watch):
    url = reverse("monitoring:source_create", args=[watch.pk])
    response = client_for(manager).post(
        url,
        {
            "kind": "mastodon",
            "name": "Fediverse",
            "poll_interval": 300,
            "cfg_instances": "https://mastodon.social",
            "cfg_tags": "acme air!",
        },
    )
    assert response.status_code == 200
    assert "is not a hashtag" in " ".join(response.context["form"].errors["cfg_tags"])


def test_a_manager_adds_a_feed_and_its_first_poll_is_enqueued(
    client_for, manager, watch, django_capture_on_commit_callbacks
):
    url = reverse("monitoring:source_create", args=[watch.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(manager).post(
            url,
            {
                "kind": "rss",
                "name": "Google Alerts",
                "poll_interval": 600,
                "cfg_url": "https://www.google.com/alerts/feeds/1/2",
            },
        )

    source = Source.objects.get(name="Google Alerts")
    assert response.status_code == 302 and response["Location"] == reverse(
        "monitoring:source_setup", args=[source.pk]
    )
    assert source.config == {"url": "https://www.google.com/alerts/feeds/1/2"} and source.poll_interval == 600
    assert len(callbacks) == 1


def test_a_remote_source_is_not_polled_more_often_than_every_30_seconds(client_for, manager, watch):
    url = reverse("monitoring:source_create", args=[watch.pk])
    response = client_for(manager).post(
        url, {"kind": "rss", "name": "F", "poll_interval": 5, "cfg_url": "https://e.org/f"}
    )
    assert "at most every 30 seconds" in text_of(response)


def test_the_webhook_setup_shows_endpoint_and_secret_to_managers_only(client_for, manager, viewer, watch):
    source = SourceFactory(watch=watch, kind="webhook", name="Brandwatch push")
    url = reverse("monitoring:source_setup", args=[source.pk])

    page = text_of(client_for(manager).get(url))
    assert source.secret in page
    assert reverse("crisisdesk:source-webhook", args=[source.pk]) in page
    assert client_for(viewer).get(url).status_code == 403
    for listing in (reverse("monitoring:sources"), reverse("monitoring:watch_detail", args=[watch.pk])):
        assert source.secret not in text_of(client_for(manager).get(listing))


def test_the_webhook_setup_shows_how_to_sign_with_a_timestamp(client_for, manager, watch, settings):
    settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = 120
    settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET = date(2099, 3, 1)
    source = SourceFactory(watch=watch, kind="webhook")
    url = reverse("monitoring:source_setup", args=[source.pk])

    page = text_of(client_for(manager).get(url))

    assert "CrisisDesk-Signature: t=&lt;t&gt;,v1=&lt;hex&gt;" in page and '"&lt;t&gt;.&lt;body&gt;"' in page
    assert "more than 120 seconds" in page
    assert "X-CrisisDesk-Signature" in page and "until 2099-03-01" in page
    settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET = date(2026, 1, 1)
    assert "X-CrisisDesk-Signature" not in text_of(client_for(manager).get(url))


def test_rotating_the_secret_from_the_page(client_for, manager, watch):
    source = SourceFactory(watch=watch, kind="webhook")
    old = source.secret
    response = client_for(manager).post(reverse("monitoring:source_rotate_secret", args=[source.pk]))
    source.refresh_from_db()
    assert response.status_code == 302 and source.secret != old


def test_a_stored_credential_is_never_rendered_back(client_for, manager, watch):
    source = SourceFactory(
        watch=watch,
        kind="youtube",
        name="YT",
        config={"api_key": "AIza-very-secret", "video_ids": ["dQw4w9WgXcQ"], "max_pages": 5},
    )
    page = text_of(client_for(manager).get(reverse("monitoring:source_setup", args=[source.pk])))
    assert "AIza-very-secret" not in page
    assert "dQw4w9WgXcQ" in page and "leave empty to keep the current one" in page


def test_pause_resume_poll_now_and_restart_drill_from_the_page(
    client_for, manager, watch, django_capture_on_commit_callbacks
):
    client = client_for(manager)
    feed = SourceFactory(watch=watch, kind="rss", config={"url": "https://example.org/feed"})
    drill = SourceFactory(
        watch=watch,
        kind="drill",
        name="Drill replay",
        config={"recording": "acme_air.jsonl", "speed": 20.0},
        cursor={"line": 10},
    )

    client.post(reverse("monitoring:source_pause", args=[feed.pk]))
    feed.refresh_from_db()
    assert feed.is_active is False
    response = client.post(reverse("monitoring:source_poll_now", args=[feed.pk]), follow=True)
    assert "paused; resume it first" in text_of(response)
    client.post(reverse("monitoring:source_resume", args=[feed.pk]))
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("monitoring:source_poll_now", args=[feed.pk]))
    assert len(callbacks) == 1
    client.post(reverse("monitoring:source_restart_drill", args=[drill.pk]))
    drill.refresh_from_db()
    assert drill.cursor == {}
    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"source.paused", "source.resumed", "source.poll_requested", "source.drill_started"} <= actions


# --- Rules ----------------------------------------------------------------------------------------


RULE_POST = {
    "name": "Negative burst",
    "kind": "negative_spike",
    "is_active": "on",
    "window_minutes": 30,
    "baseline_hours": 48,
    "min_count": 6,
    "sensitivity": "more",
    "cooldown_minutes": 90,
    "severity": 2,
    "min_share": "0.4",
    "min_reach": "5000",  # min_reach belongs to another kind: dropped
}


def test_a_manager_creates_a_rule_with_its_kind_params(client_for, manager, watch):
    response = client_for(manager).post(reverse("monitoring:rule_create", args=[watch.pk]), RULE_POST)

    rule = Rule.objects.get(name="Negative burst")
    assert response.status_code == 302
    assert (rule.window_minutes, rule.baseline_hours, rule.sensitivity, rule.severity) == (30, 48, "more", 2)
    assert rule.params == {"min_share": 0.4}
    assert AuditRecord.objects.filter(action="rule.created").exists()


def test_the_rule_form_refuses_a_window_that_is_not_whole_buckets(client_for, manager, watch):
    response = client_for(manager).post(
        reverse("monitoring:rule_create", args=[watch.pk]), {**RULE_POST, "window_minutes": 7}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["window_minutes"] == ["Use a multiple of 5 minutes."]


def test_editing_a_rule_is_audited(client_for, manager, watch):
    rule = RuleFactory(watch=watch, name="Volume", min_count=10)
    response = client_for(manager).post(
        reverse("monitoring:rule_edit", args=[rule.pk]),
        {
            **RULE_POST,
            "name": "Volume",
            "kind": "volume_spike",
            "min_count": 3,
            "method": "robust_z",
        },
    )
    rule.refresh_from_db()
    assert response.status_code == 302
    assert rule.min_count == 3 and rule.params == {"method": "robust_z"}
    row = AuditRecord.objects.get(action="rule.updated")
    assert row.before["min_count"] == 10 and row.after["min_count"] == 3


def test_deleting_a_rule_that_never_fired(client_for, manager, watch):
    rule = RuleFactory(watch=watch)
    client_for(manager).post(reverse("monitoring:rule_delete", args=[rule.pk]))
    assert not Rule.objects.filter(pk=rule.pk).exists()


def test_the_backtest_page_lists_when_the_rule_would_have_fired(
    client_for, manager, watch, django_assert_max_num_queries
):
    rule = RuleFactory(watch=watch, name="Volume", min_count=5, cooldown_minutes=60)
    now = bucket_start(timezone.now())
    quiet = now - timedelta(days=3)
    Bucket.objects.bulk_create(
        [Bucket(watch=watch, start=quiet + WIDTH * i, volume=1) for i in range(0, 480, 4)]
    )
    spike = now - timedelta(days=1)
    Bucket.objects.bulk_create(
        [Bucket(watch=watch, start=spike + WIDTH * i, volume=v) for i, v in enumerate([9, 14, 20])]
    )

    client = client_for(manager)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("monitoring:rule_backtest", args=[rule.pk]) + "?days=7")

    page = text_of(response)
    hits = response.context["hits"]
    assert len(hits) == 1
    assert hits[0].window_start <= spike + WIDTH
    assert "would have fired 1 time" in page
    assert "Outside incidents it would have fired about 1 alert a week (1 in 7 days)." in page
    assert page.count('class="backtest-hit"') == 1
    assert hits[0].at.strftime("%Y-%m-%d") in page


def test_a_quiet_backtest_says_so_and_bad_days_are_refused(client_for, manager, watch):
    rule = RuleFactory(watch=watch)
    client = client_for(manager)
    assert "would not have fired" in text_of(
        client.get(reverse("monitoring:rule_backtest", args=[rule.pk]) + "?days=3")
    )
    response = client.get(reverse("monitoring:rule_backtest", args=[rule.pk]) + "?days=400")
    assert response.status_code == 200 and response.context["hits"] is None
    assert "less than or equal to 31" in text_of(response)


def test_the_webhook_url_names_the_host_and_port_the_manager_is_on(client_for, manager, watch, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    source = SourceFactory(watch=watch, kind="webhook", name="Brandwatch push")

    page = text_of(
        client_for(manager).get(
            reverse("monitoring:source_setup", args=[source.pk]), HTTP_HOST="127.0.0.1:8123"
        )
    )

    assert f"http://127.0.0.1:8123/api/sources/{source.pk}/webhook/" in page
