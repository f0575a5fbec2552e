"""The incident REST API: reads for viewers, acknowledge/resolve/transition through the lifecycle services."""
