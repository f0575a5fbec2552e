"""The playbooks REST API (read-only): scenarios, playbooks, message templates."""
