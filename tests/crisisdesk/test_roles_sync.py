from django.contrib.auth.models import Group
from django.core.management import call_command

from crisisdesk.roles import ROLE_PERMISSIONS, sync_role_groups


def test_every_role_group_holds_exactly_its_permissions(db):
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert held == set(names), role


def test_a_flushed_database_gets_its_roles_back(transactional_db):
    call_command("flush", interactive=False, verbosity=0)

    assert set(Group.objects.values_list("name", flat=True)) == set(ROLE_PERMISSIONS)


def test_sync_is_idempotent_and_restores_a_tampered_role(db):
    viewer = Group.objects.get(name="viewer")
    viewer.permissions.clear()

    sync_role_groups()
    sync_role_groups()

    assert viewer.permissions.count() == len(ROLE_PERMISSIONS["viewer"])
    assert Group.objects.filter(name__in=ROLE_PERMISSIONS).count() == 4
