"""The seeded playbook library: its content as JSON files here, and ``installer.py`` that seeds it."""
