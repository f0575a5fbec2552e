"""What the PostgreSQL benchmarks share: a connection to the server's maintenance database, and
creating a benchmark's own database when it is missing. (Not a benchmark: ``make bench`` runs
only ``bench/*.py``.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse


def admin_connection(url: str) -> Any:
    """An autocommit connection to the ``postgres`` database of the server ``url`` names."""
    import psycopg2  # imported here so the benchmarks that never touch PostgreSQL need no driver

    parsed = urlparse(url)
    admin = psycopg2.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
    )
    admin.autocommit = True
    return admin


def ensure_database(url: str) -> None:
    """Create the database ``url`` names unless it exists."""
    name = urlparse(url).path.lstrip("/")
    admin = admin_connection(url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
