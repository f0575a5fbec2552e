from django.db import migrations

# PostgreSQL only: every INSERT into the live outbox notifies the web processes' listeners
# (crisisdesk/live/wake.py). A statement trigger, so a batch of rows is one NOTIFY, and NOTIFY is
# transactional: it is delivered when the inserting transaction commits, never for a rollback.
CREATE = """
CREATE FUNCTION crisisdesk_live_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crisisdesk_live', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER live_event_notify AFTER INSERT ON crisisdesk_liveevent
    FOR EACH STATEMENT EXECUTE FUNCTION crisisdesk_live_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS live_event_notify ON crisisdesk_liveevent;
DROP FUNCTION IF EXISTS crisisdesk_live_notify();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("crisisdesk", "0004_live_events")]

    operations = [migrations.RunPython(create, drop)]
