"""Journey in Chromium: a manager adds an RSS source with a bad URL (the error is shown on the field),
fixes it, edits a rule and runs a backtest that finds the burst stored in the buckets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.intake.buckets import WIDTH, bucket_start
from monitoring.models import Bucket, Rule, Source
from tests.factories import RuleFactory, WatchFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_sets_up_a_feed_tunes_a_rule_and_backtests_it(page, live_url, login, manager, dialogs):
    watch = WatchFactory(name="Acme Air", include_terms=["acme air"])
    rule = RuleFactory(watch=watch, name="Volume spike", min_count=50, cooldown_minutes=60)
    now = bucket_start(timezone.now())
    Bucket.objects.bulk_create(
        [Bucket(watch=watch, start=now - timedelta(days=3) + WIDTH * i, volume=1) for i in range(0, 480, 4)]
        + [
            Bucket(watch=watch, start=now - timedelta(days=1) + WIDTH * i, volume=v)
            for i, v in enumerate([9, 14, 20])
        ]
    )

    login(page, manager)
    page.goto(f"{live_url}/monitoring/")
    page.get_by_role("link", name="Acme Air").click()
    page.locator(
        "#volume-chart[data-rendered='289']"
    ).wait_for()  # Chart.js drew the buckets from json_script
    page.get_by_role("link", name="Add source").click()
    page.select_option("#id_kind", "rss")
    page.get_by_role("button", name="Next").click()

    page.fill("#id_name", "Google Alerts · Acme Air")
    page.fill("#id_cfg_url", "www.google.com/alerts/feeds/123/456")  # no scheme: refused
    page.get_by_role("button", name="Add source").click()
    page.locator(".field.has-error .errorlist", has_text="Enter an absolute http(s) URL.").wait_for()
    assert not Source.objects.exists()

    page.fill("#id_cfg_url", "https://www.google.com/alerts/feeds/123/456")
    page.get_by_role("button", name="Add source").click()
    page.locator(".msg", has_text="added").wait_for()
    source = Source.objects.get(watch=watch)
    assert source.config == {"url": "https://www.google.com/alerts/feeds/123/456"}

    page.goto(f"{live_url}/monitoring/watches/{watch.pk}/rules/")
    page.get_by_role("link", name="Volume spike").click()
    page.fill("#id_min_count", "5")
    page.select_option("#id_sensitivity", "more")
    page.get_by_role("button", name="Save rule").click()
    page.locator(".msg", has_text="Rule saved").wait_for()
    rule.refresh_from_db()
    assert (rule.min_count, rule.sensitivity) == (5, "more")
    assert Rule.objects.filter(watch=watch).count() == 1

    page.locator("tr.rule-row").get_by_role("link", name="Backtest").click()
    page.fill("#id_days", "7")
    page.get_by_role("button", name="Run backtest").click()
    page.locator(".backtest-result", has_text="would have fired").wait_for()
    assert page.locator("tr.backtest-hit").count() >= 1
    assert dialogs == []
