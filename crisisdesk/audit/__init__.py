"""The audit trail: ``services`` writes rows (in the transaction of the change they record),
``selectors`` and ``views`` are the admins' read-only browser."""
