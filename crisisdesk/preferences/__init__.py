"""Each member's language and time zone, and the team's defaults for members who chose none."""
