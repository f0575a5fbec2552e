"""Notification pages for managers: channels, a test send, the delivery log; and the per-incident
delivery fragment anyone who sees the incident may load."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisisdesk.roles import MANAGE_NOTIFICATIONS, VIEW_INCIDENTS, require
from crisisdesk.types import MemberRequest
from incidents.models import ChannelKind, Incident, NotificationChannel, NotificationDelivery
from incidents.notifications import delivery, selectors, services
from incidents.notifications.forms import ChannelForm, DeliveryFilterForm


@require(MANAGE_NOTIFICATIONS)
@require_GET
def channel_list(request: MemberRequest) -> HttpResponse:
    return render(
        request, "incidents/notifications/channel_list.html", {"channels": selectors.channel_list()}
    )


def _save_channel(
    request: MemberRequest, form: ChannelForm, channel: NotificationChannel | None
) -> NotificationChannel | None:
    data = form.cleaned_data
    common = {
        "name": data["name"],
        "config": data["config"],
        "min_severity": data["min_severity"],
        "tier": data["tier"],
        "watches": list(data["watches"]),
        "by": request.user,
    }
    try:
        if channel is None:
            return services.channel_create(kind=data["kind"], **common)
        return services.channel_update(channel=channel, is_active=data["is_active"], **common)
    except ValidationError as exc:
        form.add_error(None, exc)
    except IntegrityError:
        form.add_error("name", "Another channel already has this name.")
    return None


@require(MANAGE_NOTIFICATIONS)
@require_http_methods(["GET", "POST"])
def channel_create(request: MemberRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None, initial={"kind": request.GET.get("kind", ChannelKind.SLACK)})
    if request.method == "POST" and form.is_valid():
        channel = _save_channel(request, form, None)
        if channel is not None:
            messages.success(request, f"Channel “{channel.name}” added. Send a test to check it works.")
            return redirect("incidents:notification_channel_edit", pk=channel.pk)
    return render(request, "incidents/notifications/channel_form.html", {"form": form, "channel": None})


@require(MANAGE_NOTIFICATIONS)
@require_http_methods(["GET", "POST"])
def channel_edit(request: MemberRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=pk)
    form = ChannelForm(request.POST or None, channel=channel)
    if request.method == "POST" and form.is_valid():
        saved = _save_channel(request, form, channel)
        if saved is not None:
            messages.success(request, f"Channel “{saved.name}” saved.")
            return redirect("incidents:notification_channels")
    recent = selectors.delivery_list(channel_id=channel.pk)[:10]
    return render(
        request,
        "incidents/notifications/channel_form.html",
        {"form": form, "channel": channel, "deliveries": recent},
    )


@require(MANAGE_NOTIFICATIONS)
@require_POST
def channel_set_active(request: MemberRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=pk)
    active = request.POST.get("active") == "1"
    services.channel_set_active(channel=channel, is_active=active, by=request.user)
    messages.success(request, f"Channel “{channel.name}” {'reactivated' if active else 'deactivated'}.")
    return redirect("incidents:notification_channels")


@require(MANAGE_NOTIFICATIONS)
@require_POST
def channel_test(request: MemberRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=pk)
    error = services.channel_send_test(channel=channel, by=request.user)
    if error:
        messages.error(request, f"Test to “{channel.name}” failed: {error}")
    else:
        messages.success(request, f"Test sent to “{channel.name}”.")
    if request.POST.get("next") == "list":
        return redirect("incidents:notification_channels")
    return redirect("incidents:notification_channel_edit", pk=channel.pk)


@require(MANAGE_NOTIFICATIONS)
@require_POST
def channel_rotate_secret(request: MemberRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=pk, kind=ChannelKind.WEBHOOK)
    services.channel_rotate_secret(channel=channel, by=request.user)
    messages.warning(request, "New signing secret generated: update the receiver to verify with it.")
    return redirect("incidents:notification_channel_edit", pk=channel.pk)


@require(MANAGE_NOTIFICATIONS)
@require_GET
def delivery_log(request: MemberRequest) -> HttpResponse:
    filters = DeliveryFilterForm(request.GET or None)
    page = Paginator(selectors.delivery_list(**filters.filters()), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/notifications/delivery_log.html",
        {"filters": filters, "page": page, "deliveries": page.object_list, "query": query.urlencode()},
    )


@require(MANAGE_NOTIFICATIONS)
@require_POST
def delivery_retry(request: MemberRequest, pk: int) -> HttpResponse:
    retried = delivery.delivery_retry(
        delivery=get_object_or_404(NotificationDelivery, pk=pk), by=request.user
    )
    messages.success(request, f"Delivery #{retried.pk} queued again.")
    return redirect("incidents:notification_deliveries")


def incident_panel_context(request: MemberRequest, incident: Incident) -> dict[str, Any]:
    """The incident page's delivery include (fits ``incidents.lifecycle.views.INCIDENT_PANEL_CONTEXT``)."""
    return {"notification_deliveries": selectors.delivery_list_for_incident(incident=incident)}


@require(VIEW_INCIDENTS)
@require_GET
def incident_deliveries(request: MemberRequest, pk: int) -> HttpResponse:
    """The per-incident delivery fragment (htmx), same markup as the include."""
    incident = get_object_or_404(Incident, pk=pk)
    return render(
        request,
        "incidents/notifications/_incident_deliveries.html",
        {
            "incident": incident,
            "notification_deliveries": selectors.delivery_list_for_incident(incident=incident),
        },
    )
