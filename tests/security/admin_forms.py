"""Post a Django admin change form the way a browser would: what the page shows, plus changes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.test import Client


def _field_data(form: forms.BaseForm, data: dict[str, Any]) -> None:
    for name, field in form.fields.items():
        _value_data(form, name, field, form.add_prefix(name), data)
        if field.show_hidden_initial:  # the hidden "initial-…" input a browser sends back too
            _value_data(form, name, field, form.add_initial_prefix(name), data)


def _value_data(form: forms.BaseForm, name: str, field: forms.Field, key: str, data: dict[str, Any]) -> None:
    value = form[name].value()
    widget = field.widget
    if isinstance(widget, forms.MultiWidget):
        parts = value if isinstance(value, list | tuple) else widget.decompress(value)
        for index, part in enumerate(parts):
            if part not in (None, ""):
                data[f"{key}_{index}"] = str(part)
    elif isinstance(field, forms.BooleanField):
        if value:
            data[key] = "on"
    elif isinstance(value, list | tuple):  # BoundField.value() is already prepared for the widget
        data[key] = [str(item.pk if hasattr(item, "pk") else item) for item in value]
    elif value is not None:
        data[key] = str(value.pk if hasattr(value, "pk") else value)


def change_form_data(client: Client, url: str, **changes: Any) -> dict[str, Any]:
    """The POST data of the admin form at ``url`` as it is shown, with ``changes`` applied
    (``None`` removes a key: an unticked checkbox)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    data: dict[str, Any] = {}
    _field_data(page.context["adminform"].form, data)
    for inline in page.context.get("inline_admin_formsets", []):
        formset = inline.formset
        _field_data(formset.management_form, data)
        for form in formset.forms:
            _field_data(form, data)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
