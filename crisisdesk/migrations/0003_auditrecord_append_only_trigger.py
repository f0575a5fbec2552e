from django.db import migrations

# PostgreSQL only: the database refuses to rewrite or delete an audit row, whatever the code path.
# The one change it lets through is Django's ON DELETE SET NULL of the actor (a deleted member's
# rows keep everything else). TRUNCATE (test flushes) fires no row trigger; a maintenance job that
# must delete rows says so: ``SET LOCAL crisisdesk.purge = 'on'``.
CONTENT = ("id", "at", "action", "object_type", "object_id", "object_repr", "before", "after")


def _row(alias):
    return "(" + ", ".join(f"{alias}.{column}" for column in CONTENT) + ")"


CREATE = f"""
CREATE FUNCTION crisisdesk_append_only_refusal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('crisisdesk.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% of %.id=% refused: %', TG_OP, TG_TABLE_NAME, OLD.id, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER auditrecord_is_fixed
    BEFORE UPDATE ON crisisdesk_auditrecord
    FOR EACH ROW WHEN (
        {_row("OLD")} IS DISTINCT FROM {_row("NEW")}
        OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL)
    )
    EXECUTE FUNCTION crisisdesk_append_only_refusal('the audit trail is append-only');
CREATE TRIGGER auditrecord_is_never_deleted
    BEFORE DELETE ON crisisdesk_auditrecord
    FOR EACH ROW EXECUTE FUNCTION crisisdesk_append_only_refusal('the audit trail is append-only');
"""

DROP = """
DROP TRIGGER IF EXISTS auditrecord_is_never_deleted ON crisisdesk_auditrecord;
DROP TRIGGER IF EXISTS auditrecord_is_fixed ON crisisdesk_auditrecord;
DROP FUNCTION IF EXISTS crisisdesk_append_only_refusal();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("crisisdesk", "0002_access_roles"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
