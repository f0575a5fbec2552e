from django.db import migrations

# PostgreSQL only: the database itself keeps the incident record honest, whatever the code path
# (Django admin, a shell, a bug):
# - timeline events and evidence are never rewritten or deleted;
# - a delivery keeps what was sent where (channel, incident, event, payload) and is never deleted,
#   so its channel cannot be deleted either; its status, attempts and last error move as the
#   worker retries, but a sent delivery stays sent;
# - an approved or published draft keeps its words: editing an approved one must send it back to
#   review in the same UPDATE (what incidents.response.draft_edit does); a published one never changes.
# References to members, mentions and signals may only be cleared (Django's ON DELETE SET NULL),
# never pointed elsewhere. TRUNCATE (test flushes) fires no row trigger; a maintenance job that
# must delete rows says so in its transaction: ``SET LOCAL crisisdesk.purge = 'on'``.


def _row(alias, columns):
    return "(" + ", ".join(f"{alias}.{column}" for column in columns) + ")"


def _only_cleared(*columns):
    return " OR ".join(f"(NEW.{c} IS DISTINCT FROM OLD.{c} AND NEW.{c} IS NOT NULL)" for c in columns)


TIMELINE = ("id", "incident_id", "phase", "kind", "at", "text", "links", "data", "recorded_at")
EVIDENCE = ("id", "incident_id", "text", "author", "url", "published_at", "captured_at", "sha256", "note")
DELIVERY = ("id", "channel_id", "incident_id", "event", "payload", "created_at")
DRAFT_WORDS = ("title", "body", "kind", "channel", "language")

CREATE = f"""
CREATE FUNCTION incidents_append_only_refusal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('crisisdesk.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% of %.id=% refused: %', TG_OP, TG_TABLE_NAME, OLD.id, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER timelineevent_is_fixed
    BEFORE UPDATE ON incidents_timelineevent
    FOR EACH ROW WHEN (
        {_row("OLD", TIMELINE)} IS DISTINCT FROM {_row("NEW", TIMELINE)}
        OR {_only_cleared("actor_id", "mention_id", "signal_id")}
    )
    EXECUTE FUNCTION incidents_append_only_refusal('the timeline is append-only');
CREATE TRIGGER timelineevent_is_never_deleted
    BEFORE DELETE ON incidents_timelineevent
    FOR EACH ROW EXECUTE FUNCTION incidents_append_only_refusal('the timeline is append-only');

CREATE TRIGGER evidence_is_fixed
    BEFORE UPDATE ON incidents_evidence
    FOR EACH ROW WHEN (
        {_row("OLD", EVIDENCE)} IS DISTINCT FROM {_row("NEW", EVIDENCE)}
        OR {_only_cleared("mention_id", "captured_by_id")}
    )
    EXECUTE FUNCTION incidents_append_only_refusal('evidence is immutable');
CREATE TRIGGER evidence_is_never_deleted
    BEFORE DELETE ON incidents_evidence
    FOR EACH ROW EXECUTE FUNCTION incidents_append_only_refusal('evidence is immutable');

CREATE TRIGGER notificationdelivery_record_is_fixed
    BEFORE UPDATE ON incidents_notificationdelivery
    FOR EACH ROW WHEN (
        {_row("OLD", DELIVERY)} IS DISTINCT FROM {_row("NEW", DELIVERY)}
        OR (OLD.status = 'sent' AND (NEW.status, NEW.sent_at) IS DISTINCT FROM (OLD.status, OLD.sent_at))
    )
    EXECUTE FUNCTION incidents_append_only_refusal('the delivery log records what was sent');
CREATE TRIGGER notificationdelivery_is_never_deleted
    BEFORE DELETE ON incidents_notificationdelivery
    FOR EACH ROW EXECUTE FUNCTION incidents_append_only_refusal('the delivery log is append-only');

CREATE TRIGGER draft_approved_words_are_fixed
    BEFORE UPDATE OF {", ".join(DRAFT_WORDS)} ON incidents_draft
    FOR EACH ROW WHEN (
        OLD.status IN ('approved', 'published')
        AND {_row("OLD", DRAFT_WORDS)} IS DISTINCT FROM {_row("NEW", DRAFT_WORDS)}
        AND (OLD.status = 'published' OR NEW.status IN ('approved', 'published'))
    )
    EXECUTE FUNCTION incidents_append_only_refusal(
        'an approved draft goes back to review when edited; a published one never changes');
"""

DROP = """
DROP TRIGGER IF EXISTS draft_approved_words_are_fixed ON incidents_draft;
DROP TRIGGER IF EXISTS notificationdelivery_is_never_deleted ON incidents_notificationdelivery;
DROP TRIGGER IF EXISTS notificationdelivery_record_is_fixed ON incidents_notificationdelivery;
DROP TRIGGER IF EXISTS evidence_is_never_deleted ON incidents_evidence;
DROP TRIGGER IF EXISTS evidence_is_fixed ON incidents_evidence;
DROP TRIGGER IF EXISTS timelineevent_is_never_deleted ON incidents_timelineevent;
DROP TRIGGER IF EXISTS timelineevent_is_fixed ON incidents_timelineevent;
DROP FUNCTION IF EXISTS incidents_append_only_refusal();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0003_incident_first_response_default_from_settings"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
