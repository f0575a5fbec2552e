"""Setup pages: watches, sources (setup per kind, health), rules (edit + backtest).

Everyone with a role reads them; only managers (MANAGE_MONITORING) change anything, and only they
see a webhook source's secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from crisisdesk.roles import MANAGE_MONITORING, VIEW_MONITORING, require
from crisisdesk.types import Member, MemberRequest
from crisisdesk.web import run_action
from monitoring.detection.backtest import backtest_rate, backtest_rule
from monitoring.intake.polling import pull_kinds
from monitoring.intake.webhook import legacy_signature_retired
from monitoring.models import Rule, Source, SourceKind, Watch
from monitoring.setup import selectors, services
from monitoring.setup.forms import BacktestForm, RuleForm, SourceForm, SourceKindForm, WatchForm
from monitoring.sources import get_connector

_Row = TypeVar("_Row", Watch, Source, Rule)


class _SourceAction(Protocol):
    """A source service a button calls: ``source_pause``, ``source_poll_now``, …"""

    def __call__(self, *, source: Source, by: Member) -> object: ...


def _get(getter: Callable[[int], _Row], pk: int, what: str) -> _Row:
    try:
        return getter(pk)
    except (Watch.DoesNotExist, Source.DoesNotExist, Rule.DoesNotExist):
        raise Http404(f"No such {what}.") from None


def _push_kinds() -> set[str]:
    return set(SourceKind.values) - pull_kinds()


# --- Watches --------------------------------------------------------------------------------------


@require(VIEW_MONITORING)
@require_safe
def watch_list(request: MemberRequest) -> HttpResponse:
    watches = selectors.watch_list()
    return render(
        request,
        "monitoring/watch_list.html",
        {
            "watches": watches,
            "problem_sources": sum(watch.problem_sources for watch in watches),
        },
    )


@require(VIEW_MONITORING)
@require_safe
def watch_detail(request: MemberRequest, pk: int) -> HttpResponse:
    watch = _get(selectors.watch_get, pk, "watch")
    return render(
        request,
        "monitoring/watch_detail.html",
        {
            "watch": watch,
            "series": selectors.watch_volume_series(watch=watch),
            "sources": selectors.source_list(watch_id=watch.pk),
            "rules": selectors.watch_rules(watch),
            "mentions": selectors.watch_recent_mentions(watch),
            "open_incident": selectors.watch_open_incident(watch),
            "push_kinds": _push_kinds(),
        },
    )


@require(MANAGE_MONITORING)
def watch_create(request: MemberRequest) -> HttpResponse:
    form = WatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        watch = services.watch_create(by=request.user, **form.cleaned_data)
        messages.success(request, f"Watch “{watch.name}” created with the default rules. Add a source next.")
        return redirect("monitoring:watch_detail", pk=watch.pk)
    return render(
        request,
        "monitoring/form.html",
        {
            "form": form,
            "title": "New watch",
            "cancel": reverse("monitoring:watches"),
        },
    )


@require(MANAGE_MONITORING)
def watch_edit(request: MemberRequest, pk: int) -> HttpResponse:
    watch = _get(selectors.watch_get, pk, "watch")
    form = WatchForm(request.POST or None, watch=watch)
    if request.method == "POST" and form.is_valid():
        services.watch_update(watch=watch, by=request.user, **form.cleaned_data)
        messages.success(request, "Watch saved.")
        return redirect("monitoring:watch_detail", pk=watch.pk)
    return render(
        request,
        "monitoring/form.html",
        {
            "form": form,
            "title": f"Edit {watch.name}",
            "cancel": reverse("monitoring:watch_detail", args=[watch.pk]),
        },
    )


# --- Sources --------------------------------------------------------------------------------------


@require(VIEW_MONITORING)
@require_safe
def source_list(request: MemberRequest) -> HttpResponse:
    sources = selectors.source_list()
    return render(
        request,
        "monitoring/source_list.html",
        {
            "sources": sources,
            "problems": [source for source in sources if source.is_problem],
            "push_kinds": _push_kinds(),
        },
    )


@require(MANAGE_MONITORING)
def source_create(request: MemberRequest, pk: int) -> HttpResponse:
    """Step 1 (no ``kind``): choose the kind. Step 2: that kind's setup form."""
    watch = _get(selectors.watch_get, pk, "watch")
    kind = request.GET.get("kind") or request.POST.get("kind")
    if kind not in SourceKind.values:
        return render(
            request,
            "monitoring/source_kind.html",
            {"watch": watch, "form": SourceKindForm(), "kinds": SourceKind.choices},
        )
    form = SourceForm(request.POST or None, kind=kind, watch=watch, initial={"name": SourceKind(kind).label})
    if request.method == "POST" and form.is_valid():
        try:
            source = services.source_create(
                watch=watch,
                by=request.user,
                kind=kind,
                name=form.cleaned_data["name"],
                config=form.config(),
                poll_interval=form.cleaned_data.get("poll_interval") or 300,
            )
        except ValidationError as error:
            form.add_connector_error(error)
        else:
            messages.success(request, f"Source “{source.name}” added.")
            return redirect("monitoring:source_setup", pk=source.pk)
    return render(
        request,
        "monitoring/source_form.html",
        {
            "watch": watch,
            "form": form,
            "kind": kind,
            "kind_label": SourceKind(kind).label,
            "source": None,
        },
    )


@require(MANAGE_MONITORING)
def source_setup(request: MemberRequest, pk: int) -> HttpResponse:
    source = _get(selectors.source_get, pk, "source")
    form = SourceForm(request.POST or None, kind=source.kind, watch=source.watch, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_update(
                source=source,
                by=request.user,
                name=form.cleaned_data["name"],
                config=form.config(),
                poll_interval=form.cleaned_data.get("poll_interval"),
            )
        except ValidationError as error:
            form.add_connector_error(error)
        else:
            messages.success(request, "Source saved.")
            return redirect("monitoring:source_setup", pk=source.pk)
    webhook_url = ""
    if source.kind == SourceKind.WEBHOOK:
        # The host and port this member is on (``make run PORT=8123``, a proxy's name): SITE_URL is
        # for links sent out of the app (emails), where no request says where the app is.
        webhook_url = request.build_absolute_uri(reverse("crisisdesk:source-webhook", args=[source.pk]))
    return render(
        request,
        "monitoring/source_form.html",
        {
            "watch": source.watch,
            "form": form,
            "kind": source.kind,
            "kind_label": source.get_kind_display(),
            "source": source,
            "pull": get_connector(source.kind).pull,
            "webhook_url": webhook_url,
            "signature_tolerance": settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS,
            # Shown until the day the deprecated header stops working, so senders still on it see why.
            "legacy_sunset": None if legacy_signature_retired() else settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET,
        },
    )


def _source_action(request: MemberRequest, pk: int, action: _SourceAction, done: str) -> HttpResponse:
    source = _get(selectors.source_get, pk, "source")

    def act() -> str:
        action(source=source, by=request.user)
        return done

    run_action(request, act)
    return redirect(request.POST.get("next") or reverse("monitoring:source_setup", args=[source.pk]))


@require(MANAGE_MONITORING)
@require_POST
def source_pause(request: MemberRequest, pk: int) -> HttpResponse:
    return _source_action(request, pk, services.source_pause, "Source paused.")


@require(MANAGE_MONITORING)
@require_POST
def source_resume(request: MemberRequest, pk: int) -> HttpResponse:
    return _source_action(request, pk, services.source_resume, "Source resumed.")


@require(MANAGE_MONITORING)
@require_POST
def source_poll_now(request: MemberRequest, pk: int) -> HttpResponse:
    return _source_action(
        request, pk, services.source_poll_now, "Poll queued; health updates when it finishes."
    )


@require(MANAGE_MONITORING)
@require_POST
def source_rotate_secret(request: MemberRequest, pk: int) -> HttpResponse:
    return _source_action(
        request,
        pk,
        services.source_rotate_secret,
        "New secret made. The old one no longer works: update the sender.",
    )


@require(MANAGE_MONITORING)
@require_POST
def source_restart_drill(request: MemberRequest, pk: int) -> HttpResponse:
    return _source_action(request, pk, services.source_restart_drill, "Drill restarted from the beginning.")


# --- Rules ----------------------------------------------------------------------------------------


@require(VIEW_MONITORING)
@require_safe
def rule_list(request: MemberRequest, pk: int) -> HttpResponse:
    watch = _get(selectors.watch_get, pk, "watch")
    return render(
        request, "monitoring/rule_list.html", {"watch": watch, "rules": selectors.watch_rules(watch)}
    )


@require(MANAGE_MONITORING)
def rule_create(request: MemberRequest, pk: int) -> HttpResponse:
    watch = _get(selectors.watch_get, pk, "watch")
    form = RuleForm(request.POST or None, watch=watch)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.rule_create(watch=watch, by=request.user, **form.rule_fields())
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, f"Rule “{rule.name}” added.")
            return redirect("monitoring:rules", pk=watch.pk)
    return render(request, "monitoring/rule_form.html", {"watch": watch, "form": form, "rule": None})


@require(MANAGE_MONITORING)
def rule_edit(request: MemberRequest, pk: int) -> HttpResponse:
    rule = _get(selectors.rule_get, pk, "rule")
    form = RuleForm(request.POST or None, watch=rule.watch, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_update(rule=rule, by=request.user, **form.rule_fields())
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Rule saved.")
            return redirect("monitoring:rules", pk=rule.watch_id)
    return render(request, "monitoring/rule_form.html", {"watch": rule.watch, "form": form, "rule": rule})


@require(MANAGE_MONITORING)
@require_POST
def rule_delete(request: MemberRequest, pk: int) -> HttpResponse:
    rule = _get(selectors.rule_get, pk, "rule")

    def delete() -> str:
        services.rule_delete(rule=rule, by=request.user)
        return "Rule deleted."

    if run_action(request, delete):
        return redirect("monitoring:rules", pk=rule.watch_id)
    return redirect("monitoring:rule_edit", pk=rule.pk)


@require(MANAGE_MONITORING)
@require_safe
def rule_backtest(request: MemberRequest, pk: int) -> HttpResponse:
    """ "Over the last N days this rule would have fired at …", replayed over stored buckets (writes nothing)."""
    rule = _get(selectors.rule_get, pk, "rule")
    form = BacktestForm(request.GET or {"days": 7})
    hits = rate = None
    if form.is_valid():
        hits = backtest_rule(rule=rule, days=form.cleaned_data["days"])
        rate = backtest_rate(rule=rule, hits=hits, days=form.cleaned_data["days"])
    return render(
        request,
        "monitoring/rule_backtest.html",
        {
            "rule": rule,
            "watch": rule.watch,
            "form": form,
            "hits": hits,
            "rate": rate,
            "days": form.cleaned_data.get("days") if form.is_valid() else None,
        },
    )
