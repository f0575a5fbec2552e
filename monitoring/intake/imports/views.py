"""Import pages: upload an export, watch its progress, queue a stalled one again (managers only)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from crisisdesk.roles import MANAGE_MONITORING, require
from crisisdesk.types import MemberRequest
from crisisdesk.web import run_action
from monitoring.intake.imports import selectors, services
from monitoring.intake.imports.formats import FORMATS, format_rows
from monitoring.intake.imports.forms import ImportUploadForm


@require(MANAGE_MONITORING)
def import_upload(request: MemberRequest) -> HttpResponse:
    initial = {}
    if request.GET.get("source", "").isdigit():
        initial["source"] = int(request.GET["source"])
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        source = form.cleaned_data["source"] or services.import_source_for(
            watch=form.cleaned_data["new_for_watch"], by=request.user
        )
        upload = form.cleaned_data["file"]
        try:
            upload_id = services.import_upload_store(
                source=source, fileobj=upload, filename=upload.name, by=request.user
            )
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return redirect("monitoring:import_status", upload_id=upload_id)
    formats = [(export_format, format_rows(export_format)) for export_format in FORMATS]
    return render(request, "monitoring/import_upload.html", {"form": form, "formats": formats})


@require(MANAGE_MONITORING)
@require_safe
def import_status(request: MemberRequest, upload_id: str) -> HttpResponse:
    """The upload's progress: the full page, or (htmx) the fragment that polls itself until done."""
    status = services.import_status_read(upload_id)
    if status is None:
        raise Http404("No such upload.")
    source = selectors.upload_source(status)
    total = status.get("total") or 0
    context = {
        "status": status,
        "source": source,
        "upload_id": upload_id,
        "percent": int(100 * status.get("done", 0) / total) if total else None,
        "finished": status["state"] in ("done", "failed"),
        "stalled": services.import_upload_stalled(status),
        "retryable": services.import_upload_retryable(status),
        "max_attempts": services.IMPORT_MAX_ATTEMPTS,
    }
    template = "monitoring/_import_progress.html" if request.htmx else "monitoring/import_status.html"
    return render(request, template, context)


@require(MANAGE_MONITORING)
@require_POST
def import_retry(request: MemberRequest, upload_id: str) -> HttpResponse:
    def retry() -> str:
        services.import_upload_retry(upload_id=upload_id, by=request.user)
        return gettext("Import queued again.")

    run_action(request, retry)
    if services.import_status_read(upload_id) is None:
        raise Http404("No such upload.")
    return redirect("monitoring:import_status", upload_id=upload_id)
