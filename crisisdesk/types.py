"""Types shared by every app's service signatures."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import User

# A signed-in team member: the ``by`` of every service that a person calls. The project uses
# Django's own user model (no AUTH_USER_MODEL swap), so this is exact for the type checker.
Member: TypeAlias = User
