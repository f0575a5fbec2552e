"""``manage.py drill_replay --watch NAME [--recording F] [--speed X] [--loop]``: start a team drill."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.models import Watch
from monitoring.setup.services import drill_start
from monitoring.sources.drill import DEFAULT_SPEED, available_recordings


class Command(BaseCommand):
    help = "Create or reset a drill replay source on a watch; the worker plays it on its next polls."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--watch", required=True, help="Name of the watch to drill on.")
        parser.add_argument("--recording", default="acme_air.jsonl", help="JSONL file in the drill folder.")
        parser.add_argument("--speed", type=float, default=DEFAULT_SPEED, help="Times faster than recorded.")
        parser.add_argument("--loop", action="store_true", help="Start again after the last line.")
        parser.add_argument("--name", default="Drill replay", help="Name of the drill source on the watch.")

    def handle(self, *args: Any, **options: Any) -> None:
        watch = Watch.objects.filter(name=options["watch"]).first()
        if watch is None:
            names = ", ".join(Watch.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No watch named {options['watch']!r} (watches: {names}).")
        try:
            source = drill_start(
                watch=watch,
                recording=options["recording"],
                speed=options["speed"],
                loop=options["loop"],
                name=options["name"],
            )
        except ValidationError as error:
            recordings = ", ".join(available_recordings()) or "none"
            raise CommandError(f"{'; '.join(error.messages)} (recordings: {recordings})") from error
        self.stdout.write(
            f"Drill {source.name!r} (source #{source.pk}) on {watch.name!r}: playing "
            f"{source.config['recording']} at {source.config['speed']:g}x"
            f"{' in a loop' if source.config['loop'] else ''}, starting with the next poll."
        )
