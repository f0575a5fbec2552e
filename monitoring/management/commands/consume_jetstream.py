"""``manage.py consume_jetstream [--once-for SECONDS] [--url URL]``: the Bluesky stream consumer.

Runs until SIGTERM/SIGINT (Procfile: ``jetstream: python manage.py consume_jetstream``), flushing
what it matched and saving its cursor before it exits, so the next start resumes where it stopped.
``--once-for`` runs for a fixed time and exits (checks, cron, tests).
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from websockets.exceptions import InvalidURI

from monitoring.sources.bluesky_stream import JetstreamConsumer, jetstream_url


class Command(BaseCommand):
    help = "Consume Bluesky Jetstream posts for every active bluesky source, resuming from the saved cursor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once-for", type=float, metavar="SECONDS", help="Stop after this many seconds.")
        parser.add_argument("--url", help=f"Jetstream subscribe URL (default: {jetstream_url()}).")
        parser.add_argument(
            "--batch-size", type=int, default=50, help="Store matches in batches of this size."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        once_for = options.get("once_for")
        if once_for is not None and once_for <= 0:
            raise CommandError("--once-for must be a positive number of seconds")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        consumer = JetstreamConsumer(url=options.get("url"), batch_size=options["batch_size"])

        def _stop(signum: int, frame: Any) -> None:
            consumer.stop()

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            stats = consumer.run(stop_after=once_for)
        except InvalidURI as exc:
            raise CommandError(f"--url / JETSTREAM_URL is not a websocket URL: {exc}") from exc
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(
            f"connections={stats.connections} events={stats.events} posts={stats.posts} "
            f"matched={stats.matched} created={stats.created} duplicates={stats.duplicates} "
            f"malformed={stats.malformed} errors={len(stats.errors)}"
        )
