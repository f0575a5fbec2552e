"""``manage.py install_playbooks``: install the starter playbook library (safe to run again)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from playbooks.library.installer import install_library, library_entries


class Command(BaseCommand):
    help = "Install the seeded playbook library: a scenario and an active playbook for every scenario type."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = install_library()
        total = len(library_entries())
        if changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Playbook library: {changed} scenario/playbook rows created or updated ({total} scenarios)."
                )
            )
        else:
            self.stdout.write(f"Playbook library already installed ({total} scenarios); nothing changed.")
