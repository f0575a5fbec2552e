"""Types shared by every app's service signatures and views."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails
from rest_framework.request import Request

# A signed-in team member: the ``by`` of every service that a person calls. The project uses
# Django's own user model (no AUTH_USER_MODEL swap), so this is exact for the type checker.
Member: TypeAlias = User


class HtmxHttpRequest(HttpRequest):
    """Any request: ``HtmxMiddleware`` (in ``MIDDLEWARE``) sets ``request.htmx`` on every one.

    django-htmx's documented typing pattern; only the type checker sees this class.
    """

    htmx: HtmxDetails


class MemberRequest(HtmxHttpRequest):
    """A request to a view behind ``crisisdesk.roles.require``: ``user`` is a signed-in member.

    django-stubs' documented pattern for views that only signed-in users reach (``require`` wraps
    ``login_required``), so ``request.user`` can be passed as a service's ``by``.
    """

    user: Member


class MemberApiRequest(Request):
    """A DRF request to an endpoint whose ``api_permission`` passed: ``user`` is a signed-in member.

    The API's counterpart of ``MemberRequest`` (``api_permission`` refuses anonymous users).
    """

    user: Member
