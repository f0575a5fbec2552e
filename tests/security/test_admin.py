"""The admin door: Django admin cannot hand out privileges, rewrite append-only records or change
anything without an audit row (crisisdesk/admin_audit.py, crisisdesk/admin.py, each app's admin.py)."""

from __future__ import annotations

import hashlib

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from crisisdesk.admin_audit import AppendOnlyAdmin, AuditedAdmin
from crisisdesk.models import AuditRecord
from incidents.models import Draft, DraftStatus, Evidence, NotificationDelivery, TimelineEvent
from incidents.signals import incident_event
from monitoring.models import Mention, Rule
from playbooks.models import ApprovalState, MessageTemplate
from tests.conftest import make_member
from tests.factories import (
    IncidentFactory,
    MentionFactory,
    MessageTemplateFactory,
    PlaybookFactory,
    RuleFactory,
    SourceFactory,
    WatchFactory,
)
from tests.incidents.notifications.receiver import make_channel
from tests.security.admin_forms import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin(db) -> User:
    """A member with the admin role, staff as seed_demo makes them: Django admin opens for them."""
    member = make_member("ada-admin", "admin")
    member.is_staff = True
    member.save(update_fields=["is_staff"])
    return member


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", "root-password-1234")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def audit(action: str, obj) -> list[AuditRecord]:
    return list(
        AuditRecord.objects.filter(
            action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).order_by("id")
    )


# --- Every registration follows the rules ---------------------------------------------------------


def test_every_admin_page_audits_its_changes():
    unaudited = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdmin)
    ]
    assert unaudited == []


@pytest.mark.parametrize("model", [Mention, Evidence, TimelineEvent, AuditRecord, NotificationDelivery])
def test_append_only_records_are_read_only_for_everyone(model):
    assert isinstance(admin.site._registry[model], AppendOnlyAdmin)


# --- Privileges ------------------------------------------------------------------------------------


def test_an_admin_member_cannot_make_themself_superuser(staff_admin):
    client = signed_in(staff_admin)
    url = f"/django-admin/auth/user/{staff_admin.pk}/change/"
    data = change_form_data(
        client,
        url,
        first_name="Ada",
        is_superuser="on",
        is_staff="on",
        is_active="on",
        groups=[str(g.pk) for g in Group.objects.all()],
        user_permissions=["1", "2"],
    )
    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    staff_admin.refresh_from_db()
    assert staff_admin.first_name == "Ada"  # the harmless field was saved…
    assert not staff_admin.is_superuser  # …the privileges were not
    assert list(staff_admin.groups.values_list("name", flat=True)) == ["admin"]
    assert staff_admin.user_permissions.count() == 0
    [row] = audit("admin.changed", staff_admin)
    assert row.actor == staff_admin and row.after["first_name"] == "Ada" and "is_superuser" not in row.after


def test_an_admin_member_may_add_a_member_here_and_it_is_audited_without_the_password(staff_admin):
    response = signed_in(staff_admin).post(
        "/django-admin/auth/user/add/",
        {
            "username": "new-member",
            "usable_password": "true",
            "password1": "A-long-start-789",
            "password2": "A-long-start-789",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member = User.objects.get(username="new-member")
    assert not (member.is_superuser or member.is_staff) and not member.groups.exists()
    [row] = audit("admin.added", member)
    assert row.actor == staff_admin and row.after["username"] == "new-member"
    assert "password" not in row.after and "A-long-start" not in str(row.after)


def test_an_admin_member_cannot_touch_a_superuser_or_their_password(staff_admin, superuser):
    client = signed_in(staff_admin)
    assert (
        client.post(f"/django-admin/auth/user/{superuser.pk}/change/", {"username": "mine"}).status_code
        == 403
    )
    assert (
        client.post(
            f"/django-admin/auth/user/{superuser.pk}/password/",
            {"password1": "Taken-over-123", "password2": "Taken-over-123"},
        ).status_code
        == 403
    )
    superuser.refresh_from_db()
    assert superuser.username == "root" and superuser.check_password("root-password-1234")


def test_an_admin_members_password_reset_of_a_colleague_is_audited_without_the_password(
    staff_admin, responder
):
    client = signed_in(staff_admin)
    response = client.post(
        f"/django-admin/auth/user/{responder.pk}/password/",
        {"password1": "Fresh-start-4567", "password2": "Fresh-start-4567", "usable_password": "true"},
    )
    assert response.status_code == 302
    [row] = audit("admin.changed", responder)
    assert "password" not in row.before and "password" not in row.after
    assert "Fresh-start" not in str(row.before) + str(row.after)


def test_a_superuser_may_grant_privileges_and_it_is_audited(superuser, responder):
    client = signed_in(superuser)
    url = f"/django-admin/auth/user/{responder.pk}/change/"
    response = client.post(url, change_form_data(client, url, is_staff="on", is_superuser="on"))
    assert response.status_code == 302
    responder.refresh_from_db()
    assert responder.is_superuser and responder.is_staff
    [row] = audit("admin.changed", responder)
    assert row.actor == superuser
    assert row.before["is_superuser"] is False and row.after["is_superuser"] is True


# --- Append-only records ----------------------------------------------------------------------------


def test_a_stored_mention_cannot_be_edited_or_deleted(staff_admin, superuser):
    mention = MentionFactory(source=SourceFactory(), text="Acme Air lost my bag")
    for user in (staff_admin, superuser):
        client = signed_in(user)
        assert (
            client.get(f"/django-admin/monitoring/mention/{mention.pk}/change/").status_code == 200
        )  # readable
        assert (
            client.post(
                f"/django-admin/monitoring/mention/{mention.pk}/change/", {"text": "Acme Air is great"}
            ).status_code
            == 403
        )
        assert (
            client.post(f"/django-admin/monitoring/mention/{mention.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        assert client.post("/django-admin/monitoring/mention/add/", {"text": "forged"}).status_code == 403
    mention.refresh_from_db()
    assert mention.text == "Acme Air lost my bag"


def test_evidence_cannot_be_forged_with_any_sha256(staff_admin, superuser):
    incident = IncidentFactory()
    for user in (staff_admin, superuser):
        response = signed_in(user).post(
            "/django-admin/incidents/evidence/add/",
            {
                "incident": incident.pk,
                "text": "they said it",
                "sha256": hashlib.sha256(b"x").hexdigest(),
                "captured_at_0": "2026-12-01",
                "captured_at_1": "10:00:00",
            },
        )
        assert response.status_code == 403
    assert not Evidence.objects.exists()


def test_the_timeline_and_the_audit_trail_cannot_be_written_here(superuser):
    incident = IncidentFactory()
    client = signed_in(superuser)
    assert (
        client.post(
            "/django-admin/incidents/timelineevent/add/",
            {"incident": incident.pk, "phase": "during", "kind": "note", "text": "forged"},
        ).status_code
        == 403
    )
    row = AuditRecord.objects.create(action="x", object_type="y", object_id="1")
    assert (
        client.post(f"/django-admin/crisisdesk/auditrecord/{row.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


def _draft(incident, author, approver, status) -> Draft:
    return Draft.objects.create(
        incident=incident,
        body="We are looking into it.",
        author=author,
        approver=approver if status != DraftStatus.DRAFT else None,
        status=status,
    )


def test_an_approved_draft_cannot_be_edited_while_it_stays_approved(superuser, responder, manager):
    incident = IncidentFactory()
    approved = _draft(incident, responder, manager, DraftStatus.APPROVED)
    published = _draft(incident, responder, manager, DraftStatus.PUBLISHED)
    client = signed_in(superuser)
    for draft in (approved, published):
        url = f"/django-admin/incidents/draft/{draft.pk}/change/"
        assert client.post(url, {"body": "We did nothing wrong.", "incident": incident.pk}).status_code == 403
        assert (
            client.post(f"/django-admin/incidents/draft/{draft.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        draft.refresh_from_db()
        assert draft.body == "We are looking into it."


def test_a_draft_still_being_written_may_be_edited_and_the_edit_is_audited(superuser, responder):
    draft = _draft(IncidentFactory(), responder, None, DraftStatus.DRAFT)
    client = signed_in(superuser)
    url = f"/django-admin/incidents/draft/{draft.pk}/change/"
    response = client.post(url, change_form_data(client, url, body="We are on it."))
    assert response.status_code == 302
    [row] = audit("admin.changed", draft)
    assert row.before == {"body": "We are looking into it."} and row.after["body"] == "We are on it."


def test_an_approved_template_cannot_be_edited_or_deleted(superuser, manager, manager2):
    template = MessageTemplateFactory(
        playbook=PlaybookFactory(),
        author=manager,
        approved_by=manager2,
        approval_state=ApprovalState.APPROVED,
        body="Approved words",
    )
    client = signed_in(superuser)
    assert (
        client.post(
            f"/django-admin/playbooks/messagetemplate/{template.pk}/change/", {"body": "Other words"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/django-admin/playbooks/messagetemplate/{template.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert MessageTemplate.objects.get(pk=template.pk).body == "Approved words"


def test_a_draft_template_cannot_be_approved_by_editing_its_state(superuser, manager):
    template = MessageTemplateFactory(
        playbook=PlaybookFactory(), author=manager, approval_state=ApprovalState.DRAFT
    )
    client = signed_in(superuser)
    url = f"/django-admin/playbooks/messagetemplate/{template.pk}/change/"
    client.post(url, change_form_data(client, url, approval_state=ApprovalState.APPROVED, body="Sneaky"))
    template.refresh_from_db()
    assert template.approval_state == ApprovalState.DRAFT


def test_a_channel_with_a_delivery_log_cannot_be_deleted(superuser, staff_admin):
    channel = make_channel(kind="webhook", url="https://hooks.example.com/x")
    incident = IncidentFactory()
    incident_event.send(sender=type(incident), incident=incident, event="opened", actor=None)
    assert NotificationDelivery.objects.filter(channel=channel).exists()
    for user in (superuser, staff_admin):
        response = signed_in(user).post(
            f"/django-admin/incidents/notificationchannel/{channel.pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 403
    assert NotificationDelivery.objects.filter(channel=channel).count() == 1


def test_a_channel_without_deliveries_may_be_deleted_and_it_is_audited(staff_admin):
    channel = make_channel(kind="webhook", url="https://hooks.example.com/x")
    response = signed_in(staff_admin).post(
        f"/django-admin/incidents/notificationchannel/{channel.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    [row] = AuditRecord.objects.filter(action="admin.deleted", object_type="incidents.notificationchannel")
    assert row.actor == staff_admin and row.before["name"] == channel.name and "secret" not in row.before


# --- Every change is audited --------------------------------------------------------------------------


def test_changing_a_watch_and_its_inline_rule_writes_audit_rows(superuser):
    watch = WatchFactory(name="Acme Air", description="old")
    rule = RuleFactory(watch=watch, name="Volume spike", min_count=10)
    client = signed_in(superuser)
    url = f"/django-admin/monitoring/watch/{watch.pk}/change/"
    rule_prefix = next(key for key in change_form_data(client, url) if key.endswith("-0-min_count"))
    data = change_form_data(client, url, description="new", **{rule_prefix: "25"})
    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    [watch_row] = audit("admin.changed", watch)
    assert watch_row.before == {"description": "old"} and watch_row.after["description"] == "new"
    [rule_row] = audit("admin.changed", rule)
    assert rule_row.before == {"min_count": 10} and rule_row.after == {"min_count": 25}


def test_adding_and_deleting_through_admin_are_audited(superuser):
    watch = WatchFactory()
    client = signed_in(superuser)
    response = client.post(
        "/django-admin/monitoring/rule/add/",
        {
            "watch": watch.pk,
            "kind": "volume_spike",
            "name": "Added in admin",
            "is_active": "on",
            "window_minutes": 15,
            "baseline_hours": 24,
            "min_count": 10,
            "sensitivity": "balanced",
            "cooldown_minutes": 60,
            "severity": 3,
            "params": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = Rule.objects.get(name="Added in admin")
    [added] = audit("admin.added", rule)
    assert added.actor == superuser and added.after["name"] == "Added in admin"

    pk = rule.pk
    assert client.post(f"/django-admin/monitoring/rule/{pk}/delete/", {"post": "yes"}).status_code == 302
    [deleted] = AuditRecord.objects.filter(
        action="admin.deleted", object_type="monitoring.rule", object_id=str(pk)
    )
    assert deleted.before["name"] == "Added in admin"


def test_the_delete_selected_action_audits_each_row(superuser):
    rules = [RuleFactory(name=f"Rule {n}") for n in range(2)]
    response = signed_in(superuser).post(
        "/django-admin/monitoring/rule/",
        {
            "action": "delete_selected",
            "_selected_action": [r.pk for r in rules],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Rule.objects.filter(pk__in=[r.pk for r in rules]).exists()
    assert AuditRecord.objects.filter(action="admin.deleted", object_type="monitoring.rule").count() == 2


def test_a_source_config_on_a_private_address_is_refused_in_admin_too(superuser, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    source = SourceFactory(kind="rss", config={"url": "https://example.com/feed"})
    client = signed_in(superuser)
    url = f"/django-admin/monitoring/source/{source.pk}/change/"
    response = client.post(
        url, change_form_data(client, url, config='{"url": "http://127.0.0.1:8123/admin/"}')
    )
    assert response.status_code == 200  # the form again, with the error
    assert "loopback" in response.content.decode()
    source.refresh_from_db()
    assert source.config == {"url": "https://example.com/feed"}


# --- Sign-in lockouts are visible to admins and lifted by them ---------------------------------------


def test_an_admin_member_sees_lockouts_and_unlocks_with_an_audit_row(staff_admin):
    attempt = AccessAttempt.objects.create(
        username="rafal-responder",
        ip_address="203.0.113.9",
        user_agent="curl",
        failures_since_start=9,
        get_data="",
        post_data="",
        http_accept="*/*",
        path_info="/login/",
        attempt_time=timezone.now(),
    )
    client = signed_in(staff_admin)
    listing = client.get("/django-admin/axes/accessattempt/")
    assert listing.status_code == 200 and "rafal-responder" in listing.content.decode()
    assert (
        client.post(f"/django-admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code
        == 302
    )
    assert not AccessAttempt.objects.exists()
    [row] = AuditRecord.objects.filter(action="admin.deleted", object_type="axes.accessattempt")
    assert row.actor == staff_admin and row.before["username"] == "rafal-responder"
