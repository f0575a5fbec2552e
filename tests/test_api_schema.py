"""Property-based fuzzing of the whole REST API from its own OpenAPI schema (schemathesis).

Every operation in ``/api/schema/`` gets generated requests — valid and invalid bodies, query strings
and path ids — and every built-in schemathesis check judges the answer: no server error, only
documented status codes, content types and headers, bodies that match their schema, invalid input
refused and valid input accepted, and no operation that answers without its credentials. Reads are
called as a viewer; writes as each role whose answer differs (a manager may edit watches and rules,
a responder may only triage incidents, a viewer may do neither), so the 403s are documented too.
Path ids point at real rows half of the time, so the write endpoints run their services rather
than only 404ing. The HMAC webhook is left out: its credential is a signature over the body, which
a generator cannot forge (tests/monitoring/api/test_webhook.py covers it).

The run is deterministic: a fixed seed, schemathesis' coverage phase (the boundary values the schema
implies, missing required headers, methods the path does not allow) and 50 generated examples per
operation and role, the same every run, so a red CI run reproduces and never flakes.
``API_FUZZ_DEEP=1`` raises the examples to 200 for a deliberate hunt.

use_after_free, ensure_resource_availability and object_level_authorization judge a sequence of
calls (create, then read or delete); they are in the list, and have something to judge only when
schemathesis runs a stateful sequence, which needs OpenAPI links this schema does not declare.
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
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

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

DEEP = os.environ.get("API_FUZZ_DEEP", "") == "1"
EXAMPLES = 200 if DEEP else 50
SEED = 20261202


def _load(*, coverage: bool):
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": coverage}}})
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config).exclude(
        path_regex=r"/webhook/$"
    )


schema = _load(coverage=True)
# A role the permission refuses gets a 403 before any input is read, so the coverage phase's
# hundreds of boundary values per write would all meet the same refusal: those roles get the
# generated examples only (and every check), the manager gets both.
schema_without_coverage = _load(coverage=False)

# Every check this schemathesis has (the OpenAPI ones register on import), so a new release's checks
# join the run on upgrade.
load_all_checks()
ALL_CHECKS = CHECKS.get_all()

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

HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


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
def _wrong_passwords_never_lock(settings):
    """``ignored_auth`` re-sends cases with made-up credentials, hundreds of times under one username
    from one address: django-axes would lock that pair after five (a 429, tested in
    tests/security/test_signin.py), and the check expects the 401 a single wrong password
    gets. The lock is the feature; here the check must see what one wrong password answers."""
    settings.AXES_FAILURE_LIMIT = 10**9


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


@pytest.fixture
def member_for(request, _wsgi_keeps_the_test_transaction, _wrong_passwords_never_lock):
    """The member fixture of a role, by name; with the WSGI and sign-in set-up every case needs."""
    return request.getfixturevalue


# positive_data_acceptance expects a schema-valid body to be accepted (or a 404/409). Whether a
# watch or rule write is accepted also depends on what OpenAPI 3.0 cannot state: the database's
# rows (a watch name is unique, a rule name unique per watch, ``watch`` must exist) and rules across
# fields (which ``params`` a rule's ``kind`` reads, which handles a platform takes). Those writes
# answer a 400 naming the field, which tests/monitoring/api/test_api_writes.py pins; every other
# check still runs on them, and positive_data_acceptance on every other operation.
STATEFUL_WRITES = re.compile(r"^(POST|PATCH) /api/(watches|rules)/")


def _checks_for(case) -> list:
    if STATEFUL_WRITES.match(f"{case.method.upper()} {case.operation.path}"):
        return [check for check in ALL_CHECKS if check.__name__ != "positive_data_acceptance"]
    return ALL_CHECKS


def _call_and_check_everything(case, seeded: dict[str, int], member) -> None:
    _point_at_real_rows(case, seeded)
    token = base64.b64encode(f"{member.username}:{PASSWORD}".encode()).decode()
    case.call_and_validate(headers={"Authorization": f"Basic {token}"}, checks=_checks_for(case))


@pytest.mark.django_db
@schema.include(method="GET").parametrize()
@seed(SEED)
@HYPOTHESIS
def test_every_read_answers_what_it_documents(case, seeded, member_for):
    _call_and_check_everything(case, seeded, member_for("viewer"))


@pytest.mark.django_db
@schema.exclude(method="GET").parametrize()
@seed(SEED)
@HYPOTHESIS
def test_every_write_answers_what_it_documents_to_a_manager(case, seeded, member_for):
    _call_and_check_everything(case, seeded, member_for("manager"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["responder", "viewer"])
@schema_without_coverage.exclude(method="GET").parametrize()
@seed(SEED)
@HYPOTHESIS
def test_every_write_answers_what_it_documents_to_other_roles(case, role, seeded, member_for):
    _call_and_check_everything(case, seeded, member_for(role))
