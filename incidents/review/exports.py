"""The review exports: the Markdown document (the printable page renders a template)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from incidents.review.kpis import format_when, kpi_rows, kpis_computed_at
from incidents.review.markdown import md_block, md_inline, md_link
from incidents.review.selectors import ReviewExport


def _md_when(at: datetime | None) -> str:
    return format_when(at) if at else "—"


def _md_section(title: str, text: str) -> list[str]:
    return [f"## {title}", "", md_block(text) or "_Nothing written._", ""]


def review_markdown(export: ReviewExport, *, base_url: str) -> str:
    """The review and the incident's full timeline as one Markdown document.

    Every piece of text a person or a stranger wrote goes through ``md_inline``/``md_block``, so no
    mention, note or review can add headings, links, HTML or tables of its own. ``base_url`` makes
    the playbook links absolute (the file is read outside CrisisDesk).
    """
    incident, review, action_items = export.incident, export.review, export.action_items
    base_url = base_url.rstrip("/")
    lines = [
        f"# Post-crisis review: #{incident.pk} {md_inline(incident.title)}",
        "",
        f"- **Watch:** {md_inline(incident.watch.name)}",
        f"- **Severity:** SEV{incident.severity}",
        f"- **Status:** {incident.get_status_display()}",
        f"- **Crisis began (first pre-crisis sign):** {_md_when(export.crisis_began_at)}",
        f"- **Detected:** {_md_when(incident.detected_at)}",
        f"- **Acknowledged:** {_md_when(incident.acknowledged_at)}",
        f"- **Resolved:** {_md_when(incident.resolved_at)}",
        f"- **Closed:** {_md_when(incident.closed_at)}",
        f"- **Review by:** {md_inline(review.author.get_username()) if review.author else '—'},"
        f" last saved {_md_when(review.updated_at)}",
        "",
    ]
    lines += _md_section("Summary", review.summary)
    lines += _md_section("What went well", review.went_well)
    lines += _md_section("What went badly", review.went_badly)
    lines += _md_section("Lessons", review.lessons)
    lines += ["## KPIs", "", "| KPI | Value | How it was measured |", "| --- | --- | --- |"]
    for row in kpi_rows(review.kpis):
        lines.append(
            f"| {md_inline(row['label'])} | {md_inline(row['display'])} | {md_inline(row.get('note', ''))} |"
        )
    computed = kpis_computed_at(review.kpis)
    lines += [
        "",
        f"_KPIs computed {_md_when(computed) if computed else 'never'}._",
        "",
        "## Action items",
        "",
    ]
    for item in action_items:
        box = "x" if item.done_at else " "
        parts = [md_inline(item.text)]
        if item.owner is not None:
            parts.append(f"owner: {md_inline(item.owner.get_username())}")
        if item.playbook is not None:
            url = base_url + reverse("playbooks:edit", args=[item.playbook_id])
            parts.append(f"changes playbook [{md_inline(str(item.playbook))}]({url})")
        lines.append(f"- [{box}] " + " — ".join(parts))
    if not action_items:
        lines.append("_No action items._")
    lines += ["", "## Timeline", ""]
    for group in export.timeline:
        lines += [f"### {group.label}", ""]
        for event in group.events:
            actor = event.actor.get_username() if event.actor else "CrisisDesk"
            entry = f"- {format_when(event.at)} · {md_inline(actor)} · {md_inline(event.text)}"
            links = [link for link in (md_link(str(url)) for url in (event.links or [])) if link]
            if links:
                entry += " · " + " ".join(links)
            lines.append(entry)
        if not group.events:
            lines.append("_Nothing recorded._")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
