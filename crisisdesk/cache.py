"""The database cache of laptop mode, with a counter that two processes cannot both miss.

Django's ``DatabaseCache.incr`` is a ``get`` and then a ``set``: two gunicorn workers counting the
same key at once both read 4 and both write 5, and a quota counted that way lets through more than
it should. Here the increment runs in one transaction that first locks the row with a no-op UPDATE
(a row lock on PostgreSQL, the database's write lock on SQLite), so the next process waits for the
committed value. ``add`` needs no change: the cache key is the table's primary key, so of two
processes adding the same key one INSERT fails and Django answers ``False`` for it.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction
from django.utils import timezone


class DatabaseCache(DjangoDatabaseCache):
    """``django.core.cache.backends.db.DatabaseCache`` whose ``incr`` is atomic across processes."""

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        """Add ``delta`` to the stored number and return the sum; ``ValueError`` if the key is
        missing or expired (as Django's backends do). The expiry is left as it was."""
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        # Identifiers only (the table named in CACHES, quoted); every value is a query parameter.
        table, cache_key, value_column, expires = (
            quote(name)
            for name in (self._table, "cache_key", "value", "expires")  # type: ignore[attr-defined]
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            # The lock comes first: nobody reads the old value between our read and our write.
            cursor.execute(
                f"UPDATE {table} SET {expires} = {expires} WHERE {cache_key} = %s AND {expires} >= %s",  # noqa: S608
                [key, now],
            )
            if cursor.rowcount == 0:
                raise ValueError(f"Key '{key}' not found.")
            cursor.execute(f"SELECT {value_column} FROM {table} WHERE {cache_key} = %s", [key])  # noqa: S608
            (encoded,) = cursor.fetchone()
            # The same encoding Django's DatabaseCache writes: base64 of a pickle.
            total = pickle.loads(base64.b64decode(encoded.encode())) + delta  # noqa: S301  (a row we wrote)
            cursor.execute(
                f"UPDATE {table} SET {value_column} = %s WHERE {cache_key} = %s",  # noqa: S608
                [base64.b64encode(pickle.dumps(total, self.pickle_protocol)).decode("latin1"), key],
            )
        return total
