"""Working an incident: the playbook, its tasks and crisis roles, drafts and their approval, replies
to the response queue, and evidence. ``services`` writes, ``selectors`` reads the incident page's
panels, ``views`` are the panels' POST actions."""
