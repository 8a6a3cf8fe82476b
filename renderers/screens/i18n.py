"""Languages of the screens: which one a request gets, and labels that follow it.

A tenant's app is built once per metadata revision and shared by users who
read different languages, so object and field labels are lazy strings that
are resolved for the current request, never baked in at build time.

Our catalog is ``renderers/translations/zh/LC_MESSAGES/messages.po`` (+ the
compiled ``.mo``, kept in the repository). It sits under ``zh``, not
``zh_CN``: Babel spells the locale ``zh_CN`` as ``zh_Hans_CN`` and looks in
``zh_Hans_CN`` then ``zh``, never in ``zh_CN``. After changing strings::

    printf '[python: **.py]\n[jinja2: **.html]\n' > /tmp/babel.cfg
    pybabel extract -F /tmp/babel.cfg -k lazy_gettext -o /tmp/messages.pot renderers/screens
    pybabel update -i /tmp/messages.pot -d renderers/translations
    pybabel compile -d renderers/translations
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale
from flask import Flask, has_request_context, request
from flask_babel import Babel, get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape

from trellis.metadata.labels import Label, localize

#: Our own message catalogs (flask-admin and WTForms bring theirs).
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
#: The languages the screens speak, as Babel locale names.
SUPPORTED = ("en", "zh_CN")


def init_babel(app: Flask) -> None:
    """Attach Flask-Babel with our catalog and the per-request language choice."""
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))


def select_locale() -> str:
    """The signed-in user's own language, else the browser's best supported one."""
    if current_user and current_user.is_authenticated:
        return supported(current_user.locale)
    return request.accept_languages.best_match(SUPPORTED, default="en") or "en"


def supported(tag: str | None) -> str:
    """Map a language tag such as ``zh-CN``, ``zh_Hans`` or ``en-GB`` to one we speak."""
    language = (tag or "en").replace("-", "_").split("_")[0].lower()
    return "zh_CN" if language == "zh" else "en"


def language_tag() -> str:
    """The current language as metadata labels spell it (``en``, ``zh-CN``)."""
    locale: Locale | None = get_locale() if has_request_context() else None
    if locale is None or locale.language == "en":
        return "en"
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


class LazyLabel(LazyString):
    """A lazy string that templates escape: labels are typed by admins, not trusted markup.

    (Flask-Babel's own ``LazyString.__html__`` returns the text unescaped.)
    """

    def __html__(self) -> str:
        return str(escape(str(self)))


def lazy_label(label: Label | None, fallback: str) -> LazyLabel:
    """A metadata label that is translated when it is rendered."""
    return LazyLabel(lambda: localize(label, language_tag(), fallback) or fallback)
