"""Email subscriptions: double opt-in, one-click unsubscribe, throttling, no enumeration, and each
published update sent once per subscriber through the notification outbox."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from incidents.models import ChannelKind, DeliveryStatus, NotificationDelivery, Subscriber, SubscriberState
from incidents.notifications.delivery import delivery_send
from incidents.notifications.routing import channels_for
from incidents.publishing.emails import subscriber_token
from incidents.publishing.services import darksite_publish
from incidents.publishing.subscriptions import SUBSCRIBE_PER_IP_PER_HOUR

pytestmark = pytest.mark.django_db

URL = re.compile(r"http://127\.0\.0\.1:8000(/status/\S+/)")


def send_pending():
    for delivery_id in NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list(
        "id", flat=True
    ):
        delivery_send(delivery_id=delivery_id)


def subscribe(email, **extra):
    return Client().post("/status/acme-air/subscribe/", {"email": email, **extra})


def confirmed(email="reader@example.org", language="en"):
    response = subscribe(email, lang=language)
    assert response.status_code == 200
    send_pending()
    confirm_path = URL.search(mail.outbox[-1].body).group(1)
    assert Client().post(confirm_path).status_code == 200
    return Subscriber.objects.get(email=email)


def test_double_opt_in(live):
    response = subscribe("Reader@Example.org")
    assert response.status_code == 200 and b"link to confirm" in response.content
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.state) == ("reader@example.org", SubscriberState.PENDING)
    send_pending()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reader@example.org"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirm_path = URL.search(message.body).group(1)
    assert "/subscribe/confirm/" in confirm_path
    # A mail scanner opening the link confirms nothing; the button does.
    assert Client().get(confirm_path).status_code == 200
    assert Subscriber.objects.get().state == SubscriberState.PENDING
    assert Client().post(confirm_path).status_code == 200
    assert Subscriber.objects.get().state == SubscriberState.CONFIRMED


def test_the_answer_is_the_same_for_every_address(live):
    confirmed("known@example.org")
    first = subscribe("known@example.org")
    second = subscribe("nobody@example.org")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content


def test_a_bad_address_is_a_400_not_a_500(live):
    for bad in ("", "not-an-address", "a@" + "b" * 300 + ".org", "x@example.org\r\nBcc: y@example.org"):
        assert subscribe(bad).status_code == 400
    assert not Subscriber.objects.exists()


def test_a_dark_site_takes_no_subscriptions(site):
    assert subscribe("reader@example.org").status_code == 404


def test_it_throttles_per_ip_and_per_address(live):
    for _ in range(SUBSCRIBE_PER_IP_PER_HOUR):
        assert subscribe("again@example.org").status_code == 200
    send_pending()
    assert len(mail.outbox) == 1  # one confirmation per address per few minutes, however often asked
    throttled = subscribe("other@example.org")
    assert throttled.status_code == 429 and throttled["Retry-After"] == "3600"
    assert (
        Client(REMOTE_ADDR="10.0.0.9")
        .post("/status/acme-air/subscribe/", {"email": "o@example.org"})
        .status_code
        == 200
    )


def test_forged_or_swapped_tokens_are_refused(live):
    subscriber = confirmed()
    assert Client().post("/status/acme-air/unsubscribe/forged-token/").status_code == 400
    confirm_token = subscriber_token(subscriber, "confirm")
    assert Client().post(f"/status/acme-air/unsubscribe/{confirm_token}/").status_code == 400
    assert Subscriber.objects.get().state == SubscriberState.CONFIRMED


def test_each_update_is_sent_once_per_subscriber_in_their_language(
    live, approved, responder, django_capture_on_commit_callbacks
):
    english = confirmed("en@example.org", "en")
    turkish = confirmed("tr@example.org", "tr")
    mail.outbox.clear()
    original = darksite_publish(draft=approved("We are looking into delays.", title="Delays"), by=responder)
    darksite_publish(
        draft=approved("Rötarları inceliyoruz.", language="tr", title="Rötarlar"),
        by=responder,
        translation_of=original,
    )
    deliveries = NotificationDelivery.objects.filter(
        channel__kind=ChannelKind.SUBSCRIBERS, event__startswith="update:"
    )
    assert deliveries.count() == 2  # the translation is not a second email
    send_pending()
    send_pending()  # a second sweep sends nothing again
    by_address = {message.to[0]: message for message in mail.outbox}
    assert len(mail.outbox) == 2
    assert "We are looking into delays." in by_address[english.email].body
    assert "Rötarları inceliyoruz." in by_address[turkish.email].body
    for message in mail.outbox:
        assert responder.username not in message.body and "@example.com" not in message.body
    assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_one_click_unsubscribe_stops_the_emails(live, approved, responder):
    subscriber = confirmed()
    mail.outbox.clear()
    darksite_publish(draft=approved("First."), by=responder)
    send_pending()
    message = mail.outbox[0]
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = URL.search(link).group(1)
    assert path in message.body
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" without any cookie or token.
    response = Client().post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.state == SubscriberState.UNSUBSCRIBED
    mail.outbox.clear()
    darksite_publish(draft=approved("Second."), by=responder)
    send_pending()
    assert mail.outbox == []


def test_team_notifications_never_go_to_subscribers(live, incident):
    confirmed()
    assert all(channel.kind != ChannelKind.SUBSCRIBERS for channel in channels_for(incident=incident))
