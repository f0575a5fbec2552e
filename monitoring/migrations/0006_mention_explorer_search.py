from django.db import migrations, models
from django.db.models.functions import Upper

# PostgreSQL only: a stored, generated ``search_vector`` for the mention explorer's full-text search,
# with a GIN index. PostgreSQL computes it on INSERT (and when scoring changes ``language``), so no
# code path can forget it, and ingest's INSERT … SELECT needs no new column. The content trigger
# (0004) fires on UPDATE OF its listed columns only: a generated column is not among them.
#
# Each mention is indexed twice: stemmed with its language's text-search configuration where
# PostgreSQL ships one (so "delay" finds "delayed"), and word-for-word with ``simple`` (so an exact
# word is found in every language, and a mention whose language was guessed wrong is still found).
# A generated column needs an IMMUTABLE expression: the two-argument to_tsvector with regconfig
# literals chosen by a CASE on the row's language is. ``monitoring.explorer.search.TEXT_SEARCH_CONFIGS``
# is the same map, for the query side.
#
# Adding a stored generated column rewrites the table under an ACCESS EXCLUSIVE lock: on a large
# table run it in a quiet hour (docs/operations.md).
CREATE = """
ALTER TABLE monitoring_mention ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    to_tsvector(
        CASE language
            WHEN 'en' THEN 'english'::regconfig
            WHEN 'tr' THEN 'turkish'::regconfig
            WHEN 'id' THEN 'indonesian'::regconfig
            ELSE 'simple'::regconfig
        END,
        text
    ) || to_tsvector('simple'::regconfig, text)
) STORED;
CREATE INDEX mention_search_idx ON monitoring_mention USING gin (search_vector);
"""

DROP = """
DROP INDEX IF EXISTS mention_search_idx;
ALTER TABLE monitoring_mention DROP COLUMN IF EXISTS search_vector;
"""


def add_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_incident_public_summary_owns_mentions_from"),
        ("monitoring", "0005_watch_own_accounts_mention_is_own"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(fields=["-published_at", "-id"], name="mention_time_idx"),
        ),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(Upper("author"), name="mention_author_idx"),
        ),
        migrations.RunPython(add_search_vector, drop_search_vector),
    ]
