"""Shared fixtures: personas for each access role, and a test-only Celery broker."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.test import Client, override_settings

from crisisdesk.celery import app as celery_app

# Unit tests never touch a real broker; the worker tests configure Redis themselves.
celery_app.conf.broker_url = "memory://"
celery_app.conf.broker_transport_options = {}

# PBKDF2 costs ~0.5-2 s per password on our 2 cores; every persona sets one. Tests need a hash, not a slow one.
django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Connector and notification tests serve from 127.0.0.1: let the outbound guard reach it (only it).
django_settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]

# Each test process keeps its own cache: the laptop default (a shared folder) would mix xdist workers.
# override_settings, not assignment: its setting_changed signal makes Django reopen the cache.
override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}).enable()

PASSWORD = "correct-horse-battery-staple"


def make_member(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.com")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def admin_member(db) -> User:
    return make_member("alice-admin", "admin")


@pytest.fixture
def manager(db) -> User:
    return make_member("maria-manager", "manager")


@pytest.fixture
def manager2(db) -> User:
    return make_member("mehmet-manager", "manager")


@pytest.fixture
def responder(db) -> User:
    return make_member("rafal-responder", "responder")


@pytest.fixture
def responder2(db) -> User:
    return make_member("rina-responder", "responder")


@pytest.fixture
def viewer(db) -> User:
    return make_member("vera-viewer", "viewer")


@pytest.fixture
def client_for():
    """``client_for(user)`` returns a test client signed in as ``user``."""

    def _client_for(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return _client_for


@pytest.fixture
def recorded_server():
    """A real HTTP server on 127.0.0.1 serving scripted replies (see ``tests/recorded_server.py``)."""
    from tests.recorded_server import RecordedServer

    with RecordedServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Personas are created in nearly every test; real password hashing would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
