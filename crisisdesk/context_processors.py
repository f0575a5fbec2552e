from __future__ import annotations

from django.http import HttpRequest

from crisisdesk.roles import user_role


def roles(request: HttpRequest) -> dict[str, object]:
    """Exposes the signed-in member's access role to every template (for showing buttons)."""
    user = getattr(request, "user", None)
    return {"access_role": user_role(user) if user is not None else None}
