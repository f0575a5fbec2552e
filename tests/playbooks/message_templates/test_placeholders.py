from __future__ import annotations

import pytest

from playbooks.message_templates.placeholders import (
    PlaceholderError,
    placeholder_errors,
    placeholders_in,
    render_placeholders,
    render_sample,
    validate_template_body,
)


def test_it_substitutes_known_placeholders():
    body = "{brand}: we are aware of {issue}. Next update {next_update}."
    out = render_placeholders(body, {"brand": "Acme", "issue": "delays", "next_update": "14:00"})
    assert out == "Acme: we are aware of delays. Next update 14:00."


def test_it_names_an_unknown_placeholder():
    errors = placeholder_errors("Hello {brand}, see {customer_name} and {price}")
    assert len(errors) == 1
    assert "{customer_name}" in errors[0] and "{price}" in errors[0]


def test_it_refuses_attribute_and_index_access():
    for body in ("{brand.__class__}", "{brand[0]}", "{0}", "{}", "{ brand }"):
        with pytest.raises(PlaceholderError):
            validate_template_body(body)
        assert render_placeholders(body, {"brand": "Acme"}) == body


def test_it_reports_a_stray_brace_and_allows_escaped_ones():
    assert placeholder_errors("Price {brand") != []
    assert placeholder_errors("Use {{ and }} for braces, {brand}") == []
    assert render_placeholders("{{brand}} is {brand}", {"brand": "Acme"}) == "{brand} is Acme"


def test_values_are_inserted_once_and_never_reparsed():
    out = render_placeholders("{brand} {issue}", {"brand": "{issue}", "issue": "<b>x</b>"})
    assert out == "{issue} <b>x</b>"


def test_a_missing_value_keeps_the_placeholder_visible():
    assert render_placeholders("Update by {next_update}", {}) == "Update by {next_update}"


def test_it_lists_placeholders_in_order_of_use():
    assert placeholders_in("{issue} {brand} {issue} {nope}") == ["issue", "brand"]


def test_sample_rendering_uses_the_template_language():
    assert "Varşova" in render_sample("{issue}", "tr")
    assert "Warsaw" in render_sample("{issue}", "xx")  # unknown language falls back to English
