from django.db import migrations

# PostgreSQL only: the database itself refuses to rewrite or delete a mention, whatever the code
# path (Django admin, a shell, a bug). Scoring (language, sentiment, risk, terms, hint, state,
# scored_at) and attaching to an incident (incident_id) keep working: only what the source sent
# is fixed. ``UPDATE OF`` keeps the trigger out of the scoring UPDATE entirely; ``WHEN`` lets a
# full-row save() through when nothing it guards changed. TRUNCATE (test flushes) fires no row
# trigger. A maintenance job that must delete rows says so in its transaction:
# ``SET LOCAL crisisdesk.purge = 'on'`` (bench/pipeline.py does, for its own rows).
CONTENT = (
    "id", "source_id", "watch_id", "external_id", "url", "author", "author_reach", "engagement", "text",
    "published_at", "fetched_at", "raw", "language_from_source",
)


def _row(alias):
    return "(" + ", ".join(f"{alias}.{column}" for column in CONTENT) + ")"


CREATE = f"""
CREATE FUNCTION monitoring_append_only_refusal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('crisisdesk.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% of %.id=% refused: %', TG_OP, TG_TABLE_NAME, OLD.id, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER mention_content_is_fixed
    BEFORE UPDATE OF {", ".join(CONTENT)} ON monitoring_mention
    FOR EACH ROW WHEN ({_row("OLD")} IS DISTINCT FROM {_row("NEW")})
    EXECUTE FUNCTION monitoring_append_only_refusal('a mention keeps what its source sent');
CREATE TRIGGER mention_is_never_deleted
    BEFORE DELETE ON monitoring_mention
    FOR EACH ROW EXECUTE FUNCTION monitoring_append_only_refusal('mentions are never deleted');
"""

DROP = """
DROP TRIGGER IF EXISTS mention_is_never_deleted ON monitoring_mention;
DROP TRIGGER IF EXISTS mention_content_is_fixed ON monitoring_mention;
DROP FUNCTION IF EXISTS monitoring_append_only_refusal();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0003_mention_composite_source_fk"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
