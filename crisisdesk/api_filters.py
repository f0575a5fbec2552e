"""Query filters shared by the REST APIs, strict and documented as exactly what they accept.

django-filter's own number filter reads any float and is documented as ``number``; an id is a
whole number within a 64-bit id's range (SQLite raises OverflowError, a 500, beyond it), and the
schema says so, so a client — or schemathesis — knows a value it sends will not be refused.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1  # ids are BigAutoField

ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class RefusesEmpty(forms.Field):
    """A parameter that is given must have a value: ``?kind=`` or ``?watch=`` is a 400, not a silent
    "any" (no enum, integer or date-time in the schema is empty). A missing parameter is still None."""

    def clean(self, value: Any) -> Any:
        if value == "":
            raise forms.ValidationError(_("Give a value, or leave the parameter out."), code="empty")
        return super().clean(value)


class _IdField(RefusesEmpty, forms.IntegerField):
    pass


class _ChoiceField(RefusesEmpty, django_filters.fields.ChoiceField):
    pass


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """An id filter: ``?watch=1.5``, ``?watch=acme`` or ``?watch=0`` is a 400 naming the field."""

    field_class = _IdField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ChoiceFilter(django_filters.ChoiceFilter):
    field_class = _ChoiceField


class _UUIDField(RefusesEmpty, forms.UUIDField):
    pass


class UUIDFilter(django_filters.UUIDFilter):
    field_class = _UUIDField


def text_filter(max_length: int) -> type[django_filters.CharFilter]:
    @extend_schema_field({"type": "string", "maxLength": max_length})
    class BoundedTextFilter(django_filters.CharFilter):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("max_length", max_length)
            super().__init__(*args, **kwargs)

    BoundedTextFilter.__name__ = BoundedTextFilter.__qualname__ = f"TextFilter{max_length}"
    return BoundedTextFilter


# Text filters whose length the schema states, so a longer value is a documented 400.
LanguageFilter = text_filter(8)
ChannelFilter = text_filter(40)
