"""CSV / JSON imports: ``importer`` reads an export into mentions through ingest."""
