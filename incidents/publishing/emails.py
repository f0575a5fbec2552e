"""The emails a dark site sends its subscribers: the double opt-in confirmation and each update.

Built when the outbox sends them (``incidents.notifications.channels.SubscriberEmailChannel``) from
the ids in the delivery's payload, so the delivery log never copies an address or a message. Both
carry a signed one-click unsubscribe link (``List-Unsubscribe`` + ``List-Unsubscribe-Post``, RFC
8058). Plain text only: nothing a subscriber receives can run or track.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import override

from incidents.models import PublicUpdate, Subscriber, SubscriberState
from incidents.publishing.selectors import public_url, site_languages

TOKEN_SALT = "incidents.publishing.subscriber"
# A confirmation link works for a week; an unsubscribe link always works.
CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 60 * 60


def subscriber_token(subscriber: Subscriber, action: str) -> str:
    """A signed, URL-safe token naming the subscriber and what the link does (``confirm``/``unsubscribe``)."""
    return signing.dumps({"s": subscriber.pk, "a": action}, salt=TOKEN_SALT, compress=True)


def token_subscriber_id(token: str, action: str) -> int | None:
    """The subscriber id in a valid token for ``action``, or None (bad, expired or another action's)."""
    max_age = CONFIRM_MAX_AGE_SECONDS if action == "confirm" else None
    try:
        value = signing.loads(token, salt=TOKEN_SALT, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(value, dict) or value.get("a") != action or not isinstance(value.get("s"), int):
        return None
    return int(value["s"])


def _absolute(path: str) -> str:
    base: str = settings.SITE_URL
    return base.rstrip("/") + path


def unsubscribe_url(subscriber: Subscriber) -> str:
    return _absolute(
        reverse(
            "public:unsubscribe",
            kwargs={"slug": subscriber.site.slug, "token": subscriber_token(subscriber, "unsubscribe")},
        )
    )


def confirm_url(subscriber: Subscriber) -> str:
    return _absolute(
        reverse(
            "public:subscribe_confirm",
            kwargs={"slug": subscriber.site.slug, "token": subscriber_token(subscriber, "confirm")},
        )
    )


def _message(subscriber: Subscriber, subject: str, template: str, context: dict[str, Any]) -> EmailMessage:
    unsubscribe = unsubscribe_url(subscriber)
    with override(subscriber.language):
        body = render_to_string(template, {**context, "unsubscribe_url": unsubscribe})
    return EmailMessage(
        subject=" ".join(subject.split())[:200],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def build_subscriber_email(payload: dict[str, Any]) -> EmailMessage | str:
    """The message a subscriber delivery sends, or the reason it must not be sent (a string)."""
    subscriber_id, update_id = payload.get("subscriber"), payload.get("update")
    subscriber = (
        Subscriber.objects.select_related("site", "site__watch").filter(pk=subscriber_id).first()
        if isinstance(subscriber_id, int)
        else None
    )
    if subscriber is None:
        return "The subscriber no longer exists."
    site = subscriber.site
    if payload.get("kind") == "confirm":
        if subscriber.state != SubscriberState.PENDING:
            return "The address is no longer waiting for confirmation."
        with override(subscriber.language):
            return _message(
                subscriber,
                render_to_string(
                    "incidents/publishing/email/confirm_subject.txt", {"brand": site.watch.name}
                ),
                "incidents/publishing/email/confirm.txt",
                {
                    "brand": site.watch.name,
                    "confirm_url": confirm_url(subscriber),
                    "page_url": public_url(site),
                },
            )
    if subscriber.state != SubscriberState.CONFIRMED:
        return "The subscriber has unsubscribed."
    update = (
        PublicUpdate.objects.filter(pk=update_id, site=site).first() if isinstance(update_id, int) else None
    )
    if update is None:
        return "The update does not exist on this site."
    versions = {update.language: update, **{t.language: t for t in update.translations.all()}}
    shown = versions.get(subscriber.language) or versions.get(site_languages(site.watch)[0]) or update
    return _message(
        subscriber,
        f"{site.watch.name}: {shown.title or shown.body[:80]}",
        "incidents/publishing/email/update.txt",
        {"update": shown, "original": update, "brand": site.watch.name, "page_url": public_url(site)},
    )
