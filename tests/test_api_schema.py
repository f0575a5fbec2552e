"""Property-based fuzzing of the whole REST API from its own OpenAPI schema (schemathesis).

Every operation in ``/api/schema/`` gets generated requests — valid and invalid bodies, query strings
and path ids — signed in as a manager (HTTP Basic), and no answer may be a server error; a 2xx
answer must also match the schema it documents. Path ids point at real rows half of the time, so the
write endpoints run their services rather than only 404ing. The HMAC webhook is left out: its
credential is a signature over the body, which a generator cannot forge (tests/monitoring/api/test_webhook.py
covers it). Examples are few and deadlines off so the module stays well under a minute on 2 cores
(``API_FUZZ_DEEP=1`` for a longer hunt).
"""

from __future__ import annotations

import base64
import os
import re

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from crisisdesk.wsgi import application
from monitoring.models import Signal
from tests.conftest import PASSWORD
from tests.factories import (
    ChecklistItemFactory,
    CrisisRoleFactory,
    IncidentFactory,
    MentionFactory,
    MessageTemplateFactory,
    PlaybookFactory,
    RuleFactory,
    SourceFactory,
    WatchFactory,
)

# The everyday run is deterministic and quick: 15 generated examples per operation, the same every run,
# so a red CI run reproduces and never flakes. API_FUZZ_DEEP=1 adds schemathesis' coverage phase
# (every boundary value the schema implies: hundreds of cases per write endpoint) and fresh random
# examples — for a deliberate hunt, not for every commit.
DEEP = os.environ.get("API_FUZZ_DEEP", "") == "1"
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": DEEP}}})
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG).exclude(
    path_regex=r"/webhook/$"
)

# The monitoring and playbook endpoints must also answer exactly what they document. (The incident
# endpoints are held to "no server error" only until their schema says ``owner`` etc. may be null.)
CONFORMING = re.compile(
    r"^/api/(watches|sources|mentions|signals|rules|scenarios|playbooks|message-templates|incidents)/"
)

# Which seeded row a path's ``{id}`` may point at.
ID_TARGETS = {
    "watches": "watch",
    "sources": "source",
    "mentions": "mention",
    "signals": "signal",
    "rules": "rule",
    "playbooks": "playbook",
    "message-templates": "template",
    "incidents": "incident",
}


@pytest.fixture
def _wsgi_keeps_the_test_transaction():
    """Called as a plain WSGI app, Django closes "old" connections at each request's start and end —
    on PostgreSQL that is the test's own connection, inside its transaction. Django's test client
    disconnects the same handler for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(manager, manager2) -> dict[str, int]:
    """One row of every kind the API exposes, with multilingual and hostile text in it."""
    watch = WatchFactory(name="Acme Air", include_terms=["acme", "açme"], languages=["en", "tr"])
    source = SourceFactory(watch=watch, kind="reddit", config={"client_id": "id", "client_secret": "s3cret"})
    incident = IncidentFactory(watch=watch)
    mention = MentionFactory(
        source=source,
        incident=incident,
        language="pl",
        sentiment_label="negative",
        state="scored",
        text="<script>alert(1)</script> Żółć! Acme Air zgubiło mój bagaż 😡",
    )
    rule = RuleFactory(watch=watch, name="Volume spike")
    now = timezone.now()
    signal = Signal.objects.create(
        rule=rule,
        watch=watch,
        window_start=now,
        window_end=now,
        observed=30,
        expected=2.5,
        severity=2,
        summary={"top_terms": ["bagaż"]},
    )
    signal.mentions.add(mention)
    playbook = PlaybookFactory()
    role = CrisisRoleFactory(playbook=playbook)
    ChecklistItemFactory(playbook=playbook, role=role)
    template = MessageTemplateFactory(
        playbook=playbook, author=manager, approved_by=manager2, approval_state="approved"
    )
    return {
        "watch": watch.pk,
        "source": source.pk,
        "mention": mention.pk,
        "signal": signal.pk,
        "rule": rule.pk,
        "playbook": playbook.pk,
        "template": template.pk,
        "incident": incident.pk,
    }


def _point_at_real_rows(case, seeded: dict[str, int]) -> None:
    params = case.path_parameters or {}
    match = re.match(r"^/api/([a-z-]+)/\{id\}", case.operation.path)
    if not match or "id" not in params:
        return
    generated = params["id"]
    if isinstance(generated, int) and generated % 2 == 0:
        params["id"] = seeded[ID_TARGETS[match.group(1)]]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=100 if DEEP else 15,
    derandomize=not DEEP,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_generated_request_is_a_server_error(case, seeded, manager, _wsgi_keeps_the_test_transaction):
    _point_at_real_rows(case, seeded)
    token = base64.b64encode(f"{manager.username}:{PASSWORD}".encode()).decode()
    checks = [not_a_server_error]
    if CONFORMING.match(case.operation.path):
        checks.append(response_schema_conformance)
    case.call_and_validate(headers={"Authorization": f"Basic {token}"}, checks=checks)
