"""CSV / JSON imports: ``importer`` reads an export into mentions through ingest; ``services`` keep
uploads and their progress; ``selectors``, ``forms`` and ``views`` serve the upload pages."""
