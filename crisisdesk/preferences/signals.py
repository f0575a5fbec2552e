"""At sign-in, the member's language and time zone go into the session (read once, not per request)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest

from crisisdesk.preferences.locale import remember_locale
from crisisdesk.preferences.selectors import member_locale


def _remember_at_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        remember_locale(request, member_locale(user))


user_logged_in.connect(_remember_at_sign_in, dispatch_uid="crisisdesk.preferences.sign_in")
