from __future__ import annotations

from playbooks.message_templates.forms import TemplateForm


def test_the_template_form_names_an_unknown_placeholder():
    form = TemplateForm(
        data={"kind": "holding", "channel": "all", "language": "en", "title": "T", "body": "Hi {customer}"}
    )
    assert not form.is_valid()
    assert "{customer}" in form.errors["body"][0]
