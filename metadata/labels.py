"""Labels: a plain string, or a map of locales to strings.

Admins write ``"Deal"`` or ``{"en": "Deal", "zh-CN": "商机"}``; screens ask for
one locale and fall back sensibly instead of showing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

Label = str | Mapping[str, str]


def localize(label: Label | None, locale: str, fallback: str = "") -> str:
    """The label's text in ``locale``: exact match, then language, then English, then any."""
    if label is None:
        return fallback
    if isinstance(label, str):
        return label
    wanted = locale.replace("_", "-")
    language = wanted.split("-")[0]
    for key in (wanted, language):
        if key in label:
            return label[key]
    for key, text in label.items():
        if key.split("-")[0] == language:
            return text
    return label.get("en") or next(iter(label.values()), fallback)
