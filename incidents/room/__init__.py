"""The crisis room: what the incident page leads with — the figures, the chart, who and what is
loud, the timeline in pages, and what changed since this member last looked."""
