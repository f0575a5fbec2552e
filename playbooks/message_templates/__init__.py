"""Message templates: the team's prepared statements, versioned, approved by a second manager."""
