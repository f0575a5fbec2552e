"""Untrusted text as inert Markdown: escaping for inline text, paragraphs and links.

Generic: nothing here knows about reviews. Every piece of text a person or a stranger wrote goes
through ``md_inline``/``md_block`` before it reaches an exported document, so no mention, note or
review can add headings, links, HTML or tables of its own.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from crisisdesk.links import safe_url

# Characters that start Markdown inline structure (emphasis, code, links, HTML, entities, tables,
# strikethrough) — backslash-escaped wherever untrusted text appears.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&#!{}])")
# Block markers that only matter at the start of a line: lists, quotes, headings, rules, setext.
_MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")


def md_inline(text: str) -> str:
    """Untrusted text as one Markdown inline: whitespace collapsed, structure characters escaped."""
    text = " ".join(str(text or "").split())
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), text)


def _escape_marker(marker: str) -> str:
    # "12." -> "12\." ; "-" -> "\-"
    return marker[:-1] + "\\" + marker[-1]


def md_block(text: str) -> str:
    """Untrusted multi-line text as Markdown paragraphs: each line escaped, line breaks kept.

    Leading indentation is dropped (it would turn a line into a code block) and no line can open
    a heading, list, quote, fence, table, HTML block or thematic break.
    """
    lines = str(text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        escaped = md_inline(line)
        if escaped:
            paragraphs[-1].append(escaped)
        elif paragraphs[-1]:
            paragraphs.append([])
    # Two trailing spaces: a hard line break, so the author's lines stay lines inside one paragraph.
    return "\n\n".join("  \n".join(paragraph) for paragraph in paragraphs if paragraph)


def md_link(url: str) -> str:
    """An http(s) URL as a Markdown autolink (``<…>``), or "" for anything else."""
    url = safe_url(url)
    if not url:
        return ""
    return "<" + quote(url, safe=":/?#[]@!$&'()*+,;=%~") + ">"
