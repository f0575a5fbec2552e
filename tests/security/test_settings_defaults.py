"""The doors' settings: shut by default in production, open on a laptop where drills and local
servers need them (each case imports the settings in a fresh interpreter)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.crisisdesk.test_settings import _env, _run, production_env

PRINT = """
import json
from django.conf import settings
print(json.dumps({
    "allowed": settings.OUTBOUND_ALLOWED_NETWORKS,
    "docs_public": settings.API_DOCS_PUBLIC,
    "failure_limit": settings.AXES_FAILURE_LIMIT,
    "cooloff": settings.AXES_COOLOFF_TIME.total_seconds() if settings.AXES_COOLOFF_TIME else None,
}))
"""
OURS = ("OUTBOUND_ALLOWED_NETWORKS", "API_DOCS_PUBLIC", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES")


def settings_in(env: dict[str, str]) -> dict:
    for name in OURS:
        env.pop(name, None)
    return _with(env)


def _with(env: dict[str, str]) -> dict:
    done = _run(["-c", f"import django; django.setup()\n{PRINT}"], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_allows_no_private_network_and_hides_the_api_docs(tmp_path):
    values = settings_in(production_env(tmp_path))
    assert values == {"allowed": [], "docs_public": False, "failure_limit": 5, "cooloff": 1800.0}


def test_a_laptop_allows_loopback_and_shows_the_api_docs(tmp_path):
    values = settings_in(_env(tmp_path))
    assert values["allowed"] == ["127.0.0.1/32", "::1/128"] and values["docs_public"] is True


def test_the_doors_are_set_from_the_environment(tmp_path):
    env = production_env(tmp_path)
    env.update(
        OUTBOUND_ALLOWED_NETWORKS="10.20.0.0/16, 192.168.5.7",
        AXES_COOLOFF_MINUTES="0",
        AXES_FAILURE_LIMIT="3",
    )
    values = _with(env)
    assert values["allowed"] == ["10.20.0.0/16", "192.168.5.7/32"]
    assert values["cooloff"] is None and values["failure_limit"] == 3  # locked until an admin resets


def test_a_network_that_does_not_parse_fails_loudly(tmp_path):
    done = _run(["manage.py", "check"], _env(tmp_path, OUTBOUND_ALLOWED_NETWORKS="10.0.0.0/33"))
    assert done.returncode != 0 and "10.0.0.0/33" in done.stderr


# --- The API schema and docs --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_api_docs_need_a_signed_in_member_in_production(settings, url, viewer):
    settings.API_DOCS_PUBLIC = False
    assert Client().get(url).status_code == 401
    client = Client()
    client.force_login(viewer)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_api_docs_are_open_on_a_laptop(settings):
    settings.API_DOCS_PUBLIC = True
    assert Client().get("/api/schema/").status_code == 200
