"""Vocabularies shared by playbook forms, services and the seeded library."""

from __future__ import annotations

import re

# The languages our users write in. Malay and Indonesian are separate here: a template is written
# for one of them, even though scoring may treat them as one group.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "tr": "Türkçe (Turkish)",
    "pl": "Polski (Polish)",
    "id": "Bahasa Indonesia",
    "ms": "Bahasa Melayu (Malay)",
}
LANGUAGE_CHOICES = list(LANGUAGES.items())

# Channels a response can go out on. "all" means the text suits any channel.
CHANNELS: dict[str, str] = {
    "all": "Any channel",
    "x": "X (Twitter)",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "reddit": "Reddit",
    "website": "Website / status page",
    "email": "Email to customers",
    "sms": "SMS / app notification",
    "press": "Press release / media",
    "support": "Customer support (chat, phone)",
    "intranet": "Internal (employees)",
}
CHANNEL_CHOICES = list(CHANNELS.items())


def channel_name(code: str) -> str:
    """The channel's name as people say it ("X (Twitter)" for ``x``); an unknown slug as it is."""
    return CHANNELS.get(code, code)


CHANNEL_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

MAX_TERMS_PER_LANGUAGE = 100
MAX_TERM_LENGTH = 80
