"""The archive download: a POST from the incident page's archive panel, answered with the zip.

Managers and up (``EXPORT_INCIDENTS``). A POST, not a link: an export is recorded in the audit trail,
so it must be a deliberate act with a CSRF token, never something another site can trigger.
"""

from __future__ import annotations

import tempfile

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_POST

from crisisdesk.roles import EXPORT_INCIDENTS, require
from crisisdesk.types import Member
from incidents.archive import services
from incidents.lifecycle import selectors as incident_selectors
from incidents.models import Incident

# The zip is built in memory up to this size, then in a temporary file (20,000 mentions ≈ 4 MiB).
SPOOL_BYTES = 16 * 1024 * 1024

PANEL = "incidents/archive/_panel.html"  # registered in incidents.lifecycle.views.INCIDENT_SIDE_PANELS


@require(EXPORT_INCIDENTS)
@require_POST
def incident_archive(request: HttpRequest, pk: int) -> FileResponse:
    try:
        incident = incident_selectors.incident_get(pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None
    member = request.user
    if not isinstance(member, Member):  # ``require`` signed them in; this narrows the type
        raise PermissionDenied
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115 - the response closes it
    try:
        export = services.incident_archive_export(incident=incident, by=member, out=out, via="page")
    except BaseException:
        out.close()
        raise
    response = FileResponse(out, as_attachment=True, filename=export.filename, content_type="application/zip")
    response["Cache-Control"] = "no-store"  # evidence and strangers' posts: no copy in any cache
    response["X-Archive-SHA256"] = export.sha256
    return response
