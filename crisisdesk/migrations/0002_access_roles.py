"""Creates the four access roles as groups and gives each its permissions.

The permission lists live here, literally, so this migration keeps meaning what it meant when
it was written; later changes to a role come as new migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEWER = [
    "monitoring.view_watch", "monitoring.view_source", "monitoring.view_mention",
    "monitoring.view_rule", "monitoring.view_signal", "monitoring.view_bucket",
    "playbooks.view_scenario", "playbooks.view_playbook", "playbooks.view_crisisrole",
    "playbooks.view_checklistitem", "playbooks.view_messagetemplate",
    "incidents.view_incident", "incidents.view_timelineevent", "incidents.view_roleassignment",
    "incidents.view_task", "incidents.view_draft", "incidents.view_evidence", "incidents.view_reply",
    "incidents.view_review", "incidents.view_actionitem",
]
RESPONDER = VIEWER + [
    "incidents.triage_incident", "incidents.change_incident",
    "incidents.add_roleassignment", "incidents.change_roleassignment",
    "incidents.change_task", "incidents.add_draft", "incidents.change_draft",
    "incidents.add_evidence", "incidents.add_reply",
    "incidents.add_review", "incidents.change_review",
    "incidents.add_actionitem", "incidents.change_actionitem",
]
MANAGER = RESPONDER + [
    "incidents.close_incident", "incidents.approve_draft", "incidents.manage_notifications",
    "incidents.view_notificationchannel", "incidents.add_notificationchannel",
    "incidents.change_notificationchannel", "incidents.view_notificationdelivery",
    "monitoring.manage_monitoring",
    "monitoring.add_watch", "monitoring.change_watch",
    "monitoring.add_source", "monitoring.change_source",
    "monitoring.add_rule", "monitoring.change_rule", "monitoring.delete_rule",
    "playbooks.manage_playbooks", "playbooks.approve_template",
    "playbooks.add_scenario", "playbooks.change_scenario",
    "playbooks.add_playbook", "playbooks.change_playbook",
    "playbooks.add_crisisrole", "playbooks.change_crisisrole", "playbooks.delete_crisisrole",
    "playbooks.add_checklistitem", "playbooks.change_checklistitem", "playbooks.delete_checklistitem",
    "playbooks.add_messagetemplate", "playbooks.change_messagetemplate",
]
ADMIN = MANAGER + [
    "crisisdesk.manage_team", "crisisdesk.view_auditrecord",
    "auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group",
    "incidents.delete_notificationchannel", "monitoring.delete_source", "monitoring.delete_watch",
]
ROLES = {"admin": ADMIN, "manager": MANAGER, "responder": RESPONDER, "viewer": VIEWER}


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for name in names:
            app_label, codename = name.split(".")
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crisisdesk", "0001_initial"),
        ("monitoring", "0001_initial"),
        ("playbooks", "0001_initial"),
        ("incidents", "0002_incident_links"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
