"""The REST API's reads: one queryset per resource, shaped for its serializer.

Nothing here ever loads a source's ``secret`` or ``cursor``, nor a mention's ``raw`` payload.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from monitoring.intake.buckets import bucket_start
from monitoring.models import Mention, Rule, Signal, Source, Watch
from monitoring.setup.selectors import watch_bucket_sum


def watch_queryset(*, now: datetime | None = None) -> QuerySet[Watch]:
    """Watches with their last-24-hour volume and negative counts and source count, one query."""
    since = bucket_start((now or timezone.now()) - timedelta(hours=24))
    sources = (
        Source.objects.filter(watch=OuterRef("pk"))
        .order_by()
        .values("watch")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Watch.objects.annotate(
        volume_24h=watch_bucket_sum("volume", since),
        negative_24h=watch_bucket_sum("negative", since),
        source_count=Coalesce(Subquery(sources, output_field=IntegerField()), Value(0)),
    ).order_by("name")


def source_queryset() -> QuerySet[Source]:
    # The secret and the cursor are nobody's business outside the intake and the poller: never loaded.
    return Source.objects.defer("cursor", "secret").order_by("watch_id", "name", "id")


def mention_queryset() -> QuerySet[Mention]:
    return Mention.objects.select_related("source").defer("raw", "source__config", "source__cursor")


def signal_queryset() -> QuerySet[Signal]:
    """Signals newest first, with their rule's name and kind and how many mentions they link."""
    through = Signal.mentions.through
    # django-stubs does not see annotations on the auto-created through model: "n" is the Count above.
    per_signal = through.objects.filter(signal=OuterRef("pk")).order_by().values("signal")
    counts = per_signal.annotate(n=Count("*")).values("n")  # type: ignore[misc]
    return (
        Signal.objects.select_related("rule")
        .only(*[f.name for f in Signal._meta.concrete_fields], "rule__name", "rule__kind")
        .annotate(mention_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)))
        .order_by("-detected_at", "-id")
    )


def rule_queryset() -> QuerySet[Rule]:
    return Rule.objects.order_by("watch_id", "name", "id")
