"""Email subscriptions to a dark site: double opt-in, one-click unsubscribe, throttled, no enumeration.

Every answer to the public is the same whether the address is new, pending, subscribed or
unsubscribed, so nobody can learn who subscribed. Requests are throttled per IP address (the
cache counts them) and per email address (one confirmation email per ``CONFIRM_RESEND_MINUTES``).
Emails go through the notification outbox: each is a ``NotificationDelivery`` of the site's
``subscribers`` channel, unique per (update, subscriber), so an update reaches a subscriber once,
with the outbox's retries and delivery log. Subscriber changes are audited (the actor is the
anonymous public: ``None``); they write no incident timeline event — they are not incident work.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisisdesk.audit.services import audit_record
from crisisdesk.errors import Refusal
from incidents import nudges
from incidents.models import (
    ChannelKind,
    DarkSite,
    DeliveryStatus,
    NotificationChannel,
    NotificationDelivery,
    PublicUpdate,
    Subscriber,
    SubscriberState,
)
from incidents.publishing.emails import token_subscriber_id
from incidents.publishing.selectors import site_languages

SUBSCRIBE_PER_IP_PER_HOUR = 10
CONFIRM_RESEND_MINUTES = 10


class SubscriptionThrottled(Refusal):
    """Too many subscription requests from one address: 429 with ``Retry-After``."""

    status = 429
    code = "subscription_throttled"


class SubscriptionLinkInvalid(Refusal):
    """A confirmation or unsubscribe link that is forged, expired or for another site."""

    status = 400
    code = "subscription_link_invalid"


def subscribers_channel(site: DarkSite) -> NotificationChannel:
    """The site's own outbox channel (created on first use; never routed team notifications)."""
    channel, _ = NotificationChannel.objects.get_or_create(
        name=f"Dark site {site.slug}: subscribers",
        defaults={"kind": ChannelKind.SUBSCRIBERS, "config": {"site": site.pk}},
    )
    return channel


def _throttle_ip(ip: str) -> None:
    key = f"darksite:subscribe:ip:{ip}"
    cache.add(key, 0, 60 * 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this one as the first
        cache.set(key, 1, 60 * 60)
        count = 1
    if count > SUBSCRIBE_PER_IP_PER_HOUR:
        raise SubscriptionThrottled(_("Too many requests from your address; try again in an hour."))


def _queue_confirmation(subscriber: Subscriber, site: DarkSite) -> None:
    assert site.incident_id is not None  # a public site always shows an incident (a constraint)
    now = timezone.now()
    subscriber.confirm_sent_at = now
    subscriber.save(update_fields=["confirm_sent_at"])
    delivery = NotificationDelivery.objects.create(
        channel=subscribers_channel(site),
        incident_id=site.incident_id,
        event=f"confirm:{subscriber.pk}:{int(now.timestamp())}",
        payload={"kind": "confirm", "subscriber": subscriber.pk, "site": site.pk},
    )
    nudges.deliver_notification(delivery.pk)


@transaction.atomic
def subscribe_request(*, site: DarkSite, email: str, language: str, ip: str) -> None:
    """Ask to subscribe ``email`` to a public site; a confirmation email follows unless throttled.

    Returns nothing and says the same for every address (no enumeration). Bad input raises
    ``ValidationError``; too many requests from ``ip`` raise ``SubscriptionThrottled``.
    """
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid email address.")}) from None
    if len(email) > 254:
        raise ValidationError({"email": _("Enter a valid email address.")})
    site = DarkSite.objects.select_for_update().select_related("watch").get(pk=site.pk)
    if not site.is_public or site.incident_id is None:
        raise Refusal(_("This page takes no subscriptions."))
    _throttle_ip(ip)
    languages = site_languages(site.watch)
    language = language if language in languages else languages[0]
    subscriber = Subscriber.objects.select_for_update().filter(site=site, email=email).first()
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(site=site, email=email, language=language)
        except IntegrityError:  # the same address a moment ago: treat it as that request
            return
        audit_record(actor=None, action="subscriber.requested", target=subscriber, after={"site": site.pk})
        _queue_confirmation(subscriber, site)
        return
    if subscriber.state == SubscriberState.CONFIRMED:
        return  # already subscribed: nothing to send, and the answer says nothing about it
    recent = subscriber.confirm_sent_at and subscriber.confirm_sent_at > timezone.now() - timedelta(
        minutes=CONFIRM_RESEND_MINUTES
    )
    if recent:
        return
    if subscriber.state == SubscriberState.UNSUBSCRIBED:
        Subscriber.objects.filter(pk=subscriber.pk).update(state=SubscriberState.PENDING, language=language)
        subscriber.state = SubscriberState.PENDING
        audit_record(actor=None, action="subscriber.requested", target=subscriber, after={"site": site.pk})
    _queue_confirmation(subscriber, site)


def _subscriber_from(token: str, action: str, site: DarkSite) -> Subscriber:
    subscriber_id = token_subscriber_id(token, action)
    subscriber = (
        Subscriber.objects.select_for_update().filter(pk=subscriber_id, site=site).first()
        if subscriber_id
        else None
    )
    if subscriber is None:
        raise SubscriptionLinkInvalid(
            _("This link is not valid (or has expired). Subscribe again from the page.")
        )
    return subscriber


@transaction.atomic
def subscribe_confirm(*, site: DarkSite, token: str) -> Subscriber:
    """Confirm a pending subscription from its emailed link (idempotent once confirmed)."""
    subscriber = _subscriber_from(token, "confirm", site)
    if subscriber.state == SubscriberState.PENDING:
        now = timezone.now()
        Subscriber.objects.filter(pk=subscriber.pk, state=SubscriberState.PENDING).update(
            state=SubscriberState.CONFIRMED, confirmed_at=now
        )
        subscriber.state, subscriber.confirmed_at = SubscriberState.CONFIRMED, now
        audit_record(actor=None, action="subscriber.confirmed", target=subscriber, after={"site": site.pk})
    elif subscriber.state == SubscriberState.UNSUBSCRIBED:
        raise SubscriptionLinkInvalid(_("This address unsubscribed since; subscribe again from the page."))
    return subscriber


@transaction.atomic
def unsubscribe(*, site: DarkSite, token: str) -> Subscriber:
    """Stop every email to the token's address at once (idempotent); pending sends are skipped."""
    subscriber = _subscriber_from(token, "unsubscribe", site)
    if subscriber.state != SubscriberState.UNSUBSCRIBED:
        now = timezone.now()
        Subscriber.objects.filter(pk=subscriber.pk).update(
            state=SubscriberState.UNSUBSCRIBED, unsubscribed_at=now
        )
        subscriber.state, subscriber.unsubscribed_at = SubscriberState.UNSUBSCRIBED, now
        audit_record(actor=None, action="subscriber.unsubscribed", target=subscriber, after={"site": site.pk})
    return subscriber


def update_fan_out(*, update: PublicUpdate) -> int:
    """Queue ``update`` for every confirmed subscriber of its site, once each (the unique
    (channel, incident, event) key makes a repeat create nothing); returns how many were queued.
    Translations are not sent again: a subscriber gets the original in their language at send time.
    Call inside the publishing transaction; sends are nudged after commit."""
    if update.translation_of_id is not None:
        return 0
    site = update.site
    channel = subscribers_channel(site)
    subscriber_ids = list(
        Subscriber.objects.filter(site=site, state=SubscriberState.CONFIRMED).values_list("id", flat=True)
    )
    events = {f"update:{update.pk}:{subscriber_id}": subscriber_id for subscriber_id in subscriber_ids}
    NotificationDelivery.objects.bulk_create(
        [
            NotificationDelivery(
                channel=channel,
                incident_id=update.incident_id,
                event=event,
                payload={"kind": "update", "update": update.pk, "subscriber": subscriber_id},
            )
            for event, subscriber_id in events.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    queued = NotificationDelivery.objects.filter(
        channel=channel, event__in=list(events), status=DeliveryStatus.PENDING, attempts=0
    ).values_list("id", flat=True)
    count = 0
    for delivery_id in queued:
        nudges.deliver_notification(delivery_id)
        count += 1
    return count
