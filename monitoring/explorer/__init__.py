"""The mention explorer: search every mention with filters, page newest first, act on each, export as CSV."""
