"""The audit trail: ``services`` writes rows (in the transaction of the change they record),
``selectors`` and ``views`` are the admins' read-only browser.

The re-export below keeps ``from crisisdesk.audit import audit_record`` working for exactly one
commit: the next one renames every such import to ``crisisdesk.audit.services`` and removes it.
"""

from crisisdesk.audit.services import audit_record, audited_update, snapshot

__all__ = ["audit_record", "audited_update", "snapshot"]
