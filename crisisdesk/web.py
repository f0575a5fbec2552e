"""The HTML edge: how a view turns a service's answer into a flash message.

Every view module calls these instead of catching refusals itself, so "what a user is told when a
service says no" is decided once.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from crisisdesk.errors import Refusal


def validation_message(exc: ValidationError) -> str:
    """One line naming each bad field and what is wrong with it."""
    if hasattr(exc, "error_dict"):
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


def form_error(form: forms.BaseForm) -> str:
    """The form's first error, prefixed with its field's label (non-field errors stand alone)."""
    for name, errors in form.errors.items():
        if name == "__all__" or name not in form.fields:
            return str(errors[0])
        return f"{form.fields[name].label or name}: {errors[0]}"
    return "Invalid input."


def run_action(request: HttpRequest, action: Callable[[], str]) -> bool:
    """Call ``action`` (a service call returning the success message) and flash the outcome.

    A ``Refusal`` or ``ValidationError`` becomes an error message and False; success flashes the
    returned message and gives True. Anything else is a bug and propagates.
    """
    try:
        done = action()
    except Refusal as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, validation_message(exc))
    else:
        if done:
            messages.success(request, done)
        return True
    return False


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` the request carries (POST first, then GET) when it is a URL on this site, else
    ``fallback``: a form may send the member back to the page it was on, never to another site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
