"""The team page: admins add members, change their access role, deactivate and reactivate them."""
