"""Review exports: the Markdown download (headers, content, hostile text kept inert) and the printable page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from markdown_it import MarkdownIt

from incidents.lifecycle.services import incident_acknowledge, incident_resolve
from incidents.lifecycle.timeline import timeline_add
from incidents.models import Incident
from incidents.review.markdown import md_block, md_inline
from incidents.review.services import action_item_add, review_write
from tests.factories import IncidentFactory, PlaybookFactory, WatchFactory

pytestmark = pytest.mark.django_db

HOSTILE = (
    "# Fake heading\n"
    "<script>alert(1)</script>\n"
    "    indented code?\n"
    "- fake list item\n"
    "1. numbered\n"
    "> quote\n"
    "```\n"
    "| a | b |\n"
    "|---|---|\n"
    "[click](javascript:alert(1)) ![img](http://evil.example/x.png) **bold** &lt;\n"
    "\n"
    "---\n"
    "Setext?\n"
    "===\n"
    "Müşteriler çok kızgın, proszę o zwrot, kecewa sekali"
)


def parse(text: str):
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    flat = []
    for token in tokens:
        flat.append(token)
        flat.extend(token.children or [])
    return flat, md.render(text)


@pytest.fixture
def reviewed(responder, responder2):
    watch = WatchFactory(name="Acme <Air> | *Kargo*")
    incident = IncidentFactory(watch=watch, title="Luggage [lost](javascript:x) # again")
    timeline_add(
        incident=incident,
        kind="notable_mention",
        phase="pre",
        text=HOSTILE,
        links=["javascript:alert(1)", "https://social.example/@a/1?q=<b>x</b>"],
    )
    incident_acknowledge(incident=incident, by=responder)
    incident_resolve(incident=incident, by=responder, note="Fixed. <img src=x onerror=alert(1)>")
    review = review_write(
        incident=incident,
        by=responder,
        summary=HOSTILE,
        went_well="We were *fast*.",
        went_badly=HOSTILE,
        lessons="",
    )
    playbook = PlaybookFactory(name="Service failure response")
    action_item_add(
        review=review,
        by=responder,
        text="Translate | the **holding** statement <now>",
        owner=responder2,
        playbook=playbook,
    )
    return incident, playbook


def download(client, incident):
    return client.get(reverse("incidents:review_markdown", args=[incident.pk]))


def test_the_download_is_utf8_markdown_as_an_attachment(reviewed, client_for, viewer):
    incident, _ = reviewed
    response = download(client_for(viewer), incident)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="incident-{incident.pk}-review.md"'
    assert response["X-Content-Type-Options"] == "nosniff"
    text = response.content.decode("utf-8")
    assert "Müşteriler çok kızgın, proszę o zwrot, kecewa sekali" in text


def test_it_holds_the_review_kpis_action_items_and_the_full_timeline(reviewed, client_for, viewer):
    incident, playbook = reviewed
    tokens, html = parse(download(client_for(viewer), incident).content.decode())

    headings = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            headings.append((token.tag, tokens[index + 1].content))
    assert headings[0][0] == "h1" and headings[0][1].startswith(f"Post-crisis review: #{incident.pk} Luggage")
    assert headings[1:] == [
        ("h2", "Summary"),
        ("h2", "What went well"),
        ("h2", "What went badly"),
        ("h2", "Lessons"),
        ("h2", "KPIs"),
        ("h2", "Action items"),
        ("h2", "Timeline"),
        ("h3", "Pre-crisis"),
        ("h3", "During the crisis"),
        ("h3", "Post-crisis"),
    ]
    for label in (
        "Time to detect",
        "Time to acknowledge",
        "Time to first published response",
        "Peak negative volume per hour",
        "Time for sentiment to recover",
    ):
        assert f"<td>{label}</td>" in html
    assert "Acknowledge: Detected → Acknowledged" in html
    assert "Post-crisis review written by rafal-responder" in html
    edit_url = f"http://testserver/playbooks/{playbook.pk}/edit/"
    assert f'<a href="{edit_url}">Service failure response v1</a>' in html


def test_hostile_text_cannot_change_the_documents_structure(reviewed, client_for, viewer):
    incident, _ = reviewed
    tokens, html = parse(download(client_for(viewer), incident).content.decode())

    types = [token.type for token in tokens]
    assert "html_block" not in types and "html_inline" not in types
    assert "fence" not in types and "code_block" not in types and "code_inline" not in types
    assert "blockquote_open" not in types and "hr" not in types and "image" not in types
    assert types.count("table_open") == 1  # the KPI table, nothing else
    assert types.count("ordered_list_open") == 0
    hrefs = [token.attrs.get("href") for token in tokens if token.type == "link_open"]
    assert hrefs and all(href.startswith(("http://testserver/", "https://social.example/")) for href in hrefs)
    assert "https://social.example/@a/1?q=%3Cb%3Ex%3C/b%3E" in hrefs
    # The words survive as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[click](javascript:alert(1))" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "<img" not in html


def test_escaping_keeps_plain_words_readable():
    assert md_inline("Flight AC-12 delayed. We're sorry!") == "Flight AC-12 delayed. We're sorry\\!"
    assert md_inline("  - starts a list") == "\\- starts a list"
    assert md_inline("2024. was a year") == "2024\\. was a year"
    assert md_block("line one\nline two\n\n\n\nnext paragraph") == "line one  \nline two\n\nnext paragraph"


def test_the_printable_page_has_everything_and_runs_nothing(reviewed, client_for, viewer):
    incident, _ = reviewed
    response = client_for(viewer).get(reverse("incidents:review_print", args=[incident.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Post-crisis review: #" in html and "Time for sentiment to recover" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Translate | the **holding** statement &lt;now&gt;" in html
    assert "During the crisis" in html and "Acknowledge: Detected → Acknowledged" in html
    assert "css/crisisdesk.css" in html and "js/review.js" in html
    assert "<script>" not in html  # no inline script: only the external file
    assert 'method="post"' not in html  # a printout has no buttons that change things


def test_exports_of_an_incident_without_a_review_are_404(client_for, viewer):
    incident = IncidentFactory()
    client = client_for(viewer)
    assert client.get(reverse("incidents:review_markdown", args=[incident.pk])).status_code == 404
    assert client.get(reverse("incidents:review_print", args=[incident.pk])).status_code == 404


def test_exports_need_a_signed_in_member(reviewed, client):
    incident, _ = reviewed
    response = client.get(reverse("incidents:review_markdown", args=[incident.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_exports_date_the_crisis_from_its_first_pre_crisis_sign_not_the_first_signal(
    reviewed, client_for, viewer
):
    """A notable mention can predate the first detection signal: the review says when the crisis
    began under that name, so it never contradicts the header's "First signal"."""
    incident, _ = reviewed
    pre = incident.timeline.filter(phase="pre").order_by("at").first()
    Incident.objects.filter(pk=incident.pk).update(first_signal_at=pre.at + timedelta(hours=2))
    began = timezone.localtime(pre.at).strftime("%Y-%m-%d %H:%M")
    client = client_for(viewer)

    html = client.get(reverse("incidents:review_print", args=[incident.pk])).content.decode()
    markdown = client.get(reverse("incidents:review_markdown", args=[incident.pk])).content.decode()

    assert f"<dt>Crisis began (first pre-crisis sign)</dt><dd>{began}</dd>" in html
    assert "**Crisis began (first pre-crisis sign):**" in markdown
