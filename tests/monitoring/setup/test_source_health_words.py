"""A pushed source (webhook, import) is never polled: before its first delivery it says it is waiting."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.intake.polling import record_push
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "word", "sentence"),
    [("webhook", "waiting", "Waiting for the first push"), ("import", "no import", "No file imported yet")],
)
def test_a_pushed_source_waits_for_its_first_delivery(kind, word, sentence, manager, client_for):
    source = SourceFactory(kind=kind)
    client = client_for(manager)
    page = client.get(reverse("monitoring:source_setup", args=[source.pk])).content.decode()
    assert sentence in page and f">{word}</span>" in page
    assert "Not polled yet" not in page and "Last poll" not in page
    listing = client.get(reverse("monitoring:sources")).content.decode()
    assert f">{word}</span>" in listing

    record_push(source=source)
    page = client.get(reverse("monitoring:source_setup", args=[source.pk])).content.decode()
    assert "Healthy" in page and "Waiting for the first push" not in page


def test_a_polled_source_still_says_not_polled_yet(manager, client_for):
    source = SourceFactory(kind="rss")
    page = client_for(manager).get(reverse("monitoring:source_setup", args=[source.pk])).content.decode()
    assert "Not polled yet" in page and "Last poll" in page
