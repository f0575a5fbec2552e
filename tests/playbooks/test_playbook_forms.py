from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from playbooks.forms import format_trigger_terms, parse_channels, parse_trigger_terms


def test_it_parses_trigger_terms_per_language():
    text = (
        "en: recall, Refund,refund\ntr: geri çağırma, İADE\n\n# comment\npl: wycofanie\nid: penarikan produk"
    )
    assert parse_trigger_terms(text) == {
        "en": ["recall", "Refund"],
        "tr": ["geri çağırma", "İADE"],
        "pl": ["wycofanie"],
        "id": ["penarikan produk"],
    }


def test_it_round_trips_the_textarea_form():
    terms = {"tr": ["sızıntı"], "en": ["leak", "hacked"]}
    assert parse_trigger_terms(format_trigger_terms(terms)) == terms


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("recall, refund", "Line 1"),
        ("xx: foo", "unknown language “xx”"),
        ("en: recall\nde: Rückruf", "Line 2"),
        ("en: , ,", "no terms"),
        ("en: " + "x" * 81, "longer than 80"),
    ],
)
def test_it_names_the_bad_line(text, fragment):
    with pytest.raises(ValidationError) as exc:
        parse_trigger_terms(text)
    assert fragment in " ".join(exc.value.messages)


def test_it_validates_channel_names():
    assert parse_channels("x, Website,\nemail, x") == ["x", "website", "email"]
    with pytest.raises(ValidationError):
        parse_channels("x, <script>")
