"""Notification pages: channels, config validation, test send, delivery log, per-incident fragment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crisisdesk.models import AuditRecord
from incidents.models import DeliveryStatus, NotificationChannel, NotificationDelivery
from incidents.notifications.views import incident_panel_context
from tests.factories import IncidentFactory, WatchFactory
from tests.incidents.notifications.receiver import make_channel, start_receiver

pytestmark = pytest.mark.django_db

CHANNELS_URL = reverse("incidents:notification_channels")
CREATE_URL = reverse("incidents:notification_channel_create")
LOG_URL = reverse("incidents:notification_deliveries")


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_it_sends_anonymous_visitors_to_login(client):
    response = client.get(CHANNELS_URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["viewer", "responder"])
@pytest.mark.parametrize(
    "url_name", ["notification_channels", "notification_channel_create", "notification_deliveries"]
)
def test_it_refuses_members_who_do_not_manage_notifications(request, client_for, persona, url_name):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse(f"incidents:{url_name}")).status_code == 403


def test_it_refuses_a_responder_deactivating_a_channel(client_for, responder):
    channel = make_channel(url="https://hooks.example.com/x")
    url = reverse("incidents:notification_channel_set_active", args=[channel.pk])
    assert client_for(responder).post(url, {"active": "0"}).status_code == 403
    channel.refresh_from_db()
    assert channel.is_active


def test_the_nav_shows_notifications_to_managers_only(client_for, manager, responder):
    assert 'href="/incidents/notifications/"' in client_for(manager).get(CHANNELS_URL).content.decode()
    page = client_for(responder).get(reverse("incidents:list")).content.decode()
    assert 'href="/incidents/notifications/"' not in page


def test_a_manager_adds_a_slack_channel(client_for, manager):
    acme = WatchFactory(name="Acme Air")
    response = client_for(manager).post(
        CREATE_URL,
        {
            "name": "#crisis-room",
            "kind": "slack",
            "url": "https://hooks.slack.com/services/T0/B0/XYZ",
            "min_severity": "2",
            "tier": "1",
            "watches": [acme.pk],
        },
    )
    channel = NotificationChannel.objects.get(name="#crisis-room")
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:notification_channel_edit", args=[channel.pk])
    assert channel.kind == "slack" and channel.min_severity == 2 and list(channel.watches.all()) == [acme]
    assert channel.config == {
        "url": "https://hooks.slack.com/services/T0/B0/XYZ",
        "escalate_after_minutes": 15,
    }
    audit = AuditRecord.objects.get(action="notification_channel.create")
    assert audit.actor == manager and audit.after["watches"] == [acme.pk]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "slack", "url": "javascript:alert(1)"}, "url", "http:// or https://"),
        ({"kind": "webhook", "url": ""}, "url", "A webhook URL is required"),
        (
            {"kind": "email", "addresses": "desk@example.com\nnope"},
            "addresses",
            "Not a valid email address: nope",
        ),
    ],
)
def test_bad_config_is_refused_naming_the_field(client_for, manager, data, field, message):
    response = client_for(manager).post(CREATE_URL, {"name": "x", "min_severity": "4", "tier": "1", **data})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not NotificationChannel.objects.exists()


def test_a_duplicate_name_is_refused(client_for, manager):
    make_channel(name="Desk", url="https://hooks.example.com/x")
    response = client_for(manager).post(
        CREATE_URL,
        {
            "name": "desk",
            "kind": "webhook",
            "url": "https://hooks.example.com/y",
            "min_severity": "4",
            "tier": "1",
        },
    )
    assert "already has this name" in str(response.context["form"].errors["name"])


def test_a_manager_edits_and_deactivates_a_channel(client_for, manager):
    channel = make_channel(name="Desk", kind="email", addresses=["a@example.com"])
    client = client_for(manager)
    edit_url = reverse("incidents:notification_channel_edit", args=[channel.pk])
    assert "a@example.com" in client.get(edit_url).content.decode()
    response = client.post(
        edit_url,
        {
            "name": "Desk",
            "kind": "webhook",  # the kind is fixed: this is ignored
            "addresses": "b@example.com, c@example.com",
            "min_severity": "3",
            "tier": "2",
            "escalate_after_minutes": "20",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.kind == "email" and channel.tier == 2
    assert channel.config == {"addresses": ["b@example.com", "c@example.com"], "escalate_after_minutes": 20}

    response = client.post(
        reverse("incidents:notification_channel_set_active", args=[channel.pk]), {"active": "0"}
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert not channel.is_active
    assert AuditRecord.objects.filter(action="notification_channel.deactivate", actor=manager).count() == 1


def test_send_test_reaches_the_receiver(client_for, manager, receiver):
    channel = make_channel(kind="webhook", url=receiver.url)
    response = client_for(manager).post(
        reverse("incidents:notification_channel_test", args=[channel.pk]), follow=True
    )
    assert "Test sent to" in response.content.decode()
    assert receiver.requests[0].json()["event"] == "test"
    assert AuditRecord.objects.get(action="notification_channel.test").after == {"ok": True, "error": ""}


def test_a_failing_test_send_shows_the_error(client_for, manager, receiver):
    receiver.answer((403, {}, "invalid_token"))
    channel = make_channel(kind="slack", url=receiver.url)
    response = client_for(manager).post(
        reverse("incidents:notification_channel_test", args=[channel.pk]), follow=True
    )
    page = response.content.decode()
    assert "failed: HTTP 403" in page and "invalid_token" in page


def test_the_webhook_secret_is_shown_and_can_be_rotated(client_for, manager):
    channel = make_channel(kind="webhook", url="https://hooks.example.com/x")
    client = client_for(manager)
    old = channel.secret
    assert (
        old in client.get(reverse("incidents:notification_channel_edit", args=[channel.pk])).content.decode()
    )
    client.post(reverse("incidents:notification_channel_rotate_secret", args=[channel.pk]))
    channel.refresh_from_db()
    assert channel.secret != old


def test_the_channel_list_hides_webhook_paths(client_for, manager):
    make_channel(kind="slack", url="https://hooks.slack.com/services/T0/B0/SECRETTOKEN")
    page = client_for(manager).get(CHANNELS_URL).content.decode()
    assert "https://hooks.slack.com" in page and "SECRETTOKEN" not in page


def _deliveries(count: int) -> list[NotificationDelivery]:
    channel = make_channel(kind="webhook", url="https://hooks.example.com/x")
    rows = []
    for n in range(count):
        incident = IncidentFactory(
            watch=WatchFactory(name=f"Watch {n}"), title=f"<script>alert({n})</script>"
        )
        rows.append(
            NotificationDelivery.objects.create(
                channel=channel,
                incident=incident,
                event="opened",
                status=DeliveryStatus.FAILED,
                attempts=1,
                last_error="HTTP 400 from https://hooks.example.com: <b>bad</b>",
            )
        )
    return rows


def test_the_delivery_log_shows_status_attempts_and_errors_escaped(
    client_for, manager, django_assert_max_num_queries
):
    _deliveries(12)
    client = client_for(manager)
    with django_assert_max_num_queries(8):
        response = client.get(LOG_URL, {"status": "failed"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("health-failing") == 12
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page and "<script>alert(" not in page
    assert "&lt;b&gt;bad&lt;/b&gt;" in page
    assert client.get(LOG_URL).context["page"].paginator.count == 12  # no filters at all


def test_the_delivery_log_filters_by_incident(client_for, manager):
    rows = _deliveries(3)
    response = client_for(manager).get(LOG_URL, {"incident": rows[1].incident_id, "status": "nonsense"})
    assert list(response.context["deliveries"]) == [rows[1]]


def test_a_failed_delivery_can_be_retried_from_the_log(client_for, manager):
    [delivery] = _deliveries(1)
    response = client_for(manager).post(reverse("incidents:notification_delivery_retry", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0


def test_anyone_who_sees_the_incident_sees_who_was_told(client_for, viewer):
    [delivery] = _deliveries(1)
    response = client_for(viewer).get(
        reverse("incidents:notification_incident_deliveries", args=[delivery.incident_id])
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Who was told" in page and delivery.channel.name in page and "Failed" in page
    assert "Delivery log" not in page  # the managers' links stay hidden


def test_the_include_renders_from_the_page_context_or_loads_itself(rf, viewer):
    from django.template.loader import render_to_string

    [delivery] = _deliveries(1)
    incident = delivery.incident
    with_context = render_to_string(
        "incidents/notifications/_incident_deliveries.html",
        {"incident": incident, **incident_panel_context(rf.get("/"), incident)},
    )
    assert delivery.channel.name in with_context and "hx-get" not in with_context
    lazy = render_to_string("incidents/notifications/_incident_deliveries.html", {"incident": incident})
    assert f'hx-get="/incidents/{incident.pk}/notifications/"' in lazy
