"""The incident archive: one zip holding everything CrisisDesk knows about an incident, for audits
and legal holds (``services.incident_archive_export``; the page's download, ``manage.py
export_incident``)."""
