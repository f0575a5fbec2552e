"""One of several processes charging one webhook quota and claiming the same signatures at once.

    python -m tests.monitoring.intake.webhook_guard_process SOURCE_ID REQUESTS NOW START_AT

Runs with the project's settings (``DATABASE_URL`` says which database cache table is shared),
waits until the Unix time ``START_AT`` so that every process starts together, then charges
``REQUESTS`` requests at the frozen time ``NOW`` and claims signatures ``sig-0`` … ``sig-49``.
Prints ``{"allowed": …, "claimed": …}`` as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")
django.setup()

from monitoring.intake.webhook_guard import quota_charge, signature_claim  # noqa: E402  (after setup)

CLAIMS = 50


def main(source_id: int, requests: int, now: float, start_at: float) -> dict[str, int]:
    time.sleep(max(0.0, start_at - time.time()))
    allowed = claimed = 0
    for index in range(requests):
        allowed += quota_charge(source_id=source_id, now=now).allowed
        if index < CLAIMS:
            claimed += signature_claim(source_id=source_id, signature=f"sig-{index}", remember_seconds=300)
    return {"allowed": allowed, "claimed": claimed}


if __name__ == "__main__":
    source_id, requests, now, start_at = sys.argv[1:5]
    print(json.dumps(main(int(source_id), int(requests), float(now), float(start_at))))
