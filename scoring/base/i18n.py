"""The language the tool speaks: Chinese by default, English on request.

Messages are written in English in the code, wrapped in `_()` or `ngettext()`; the Chinese
catalog (`scoring/locale/zh_CN/LC_MESSAGES/scoring.po`, compiled to `scoring.mo`) translates
them (`scripts/messages.py extract|compile` keeps it up to date). The language is decided once
per command, before anything is printed (`use`): `scoring --lang zh|en`, else the environment
(`language_from_environment`); worker processes fork and inherit it.

Placeholders are named (`_("{n} case(s)").format(n=...)`) so that a translation may put them
in another order. JSON documents are data: their keys and ids are never translated.
"""
from __future__ import annotations

import gettext
import os
from contextlib import contextmanager
from pathlib import Path

DOMAIN = "scoring"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("zh", "en")
ENV = "SCORING_LANG"
LOCALE_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX order: the first one set decides
_CATALOG_LANGUAGE = {"zh": "zh_CN"}



def language_from_environment(environ=None) -> str:
    """SCORING_LANG (zh or en), else the locale (English when it starts with "en"), else Chinese.

    `LANG=C.UTF-8`, the usual setting of servers and CI, gives Chinese: the users are Chinese
    offices, and English is asked for, not assumed."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(ENV, "").strip().lower()
    if chosen[:2] in LANGUAGES:
        return chosen[:2]
    for name in LOCALE_ENV:
        value = environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def unknown_setting(environ=None) -> str | None:
    """SCORING_LANG's value when it names neither language (it is then ignored), else None."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(ENV, "").strip()
    return chosen if chosen and chosen[:2].lower() not in LANGUAGES else None


def use(language: str) -> None:
    """Speak `language` ("zh" or "en") from now on, click's own words ("Usage:", "Options") included."""
    global _catalog, _language
    _catalog, _language = _catalog_of(language), language
    # click calls the standard library's gettext.gettext, which reads the process's default
    # domain and takes the language from the environment only (LANGUAGE first): the catalog
    # holds click's messages too, and LANGUAGE names the language decided here.
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _CATALOG_LANGUAGE.get(language, language)


def _catalog_of(language: str) -> gettext.NullTranslations:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: one of {', '.join(LANGUAGES)}")
    if language in _CATALOG_LANGUAGE:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[_CATALOG_LANGUAGE[language]])
    return gettext.NullTranslations()


@contextmanager
def speaking(language: str):
    """Messages made inside the block are in `language` (click's words are left as they are)."""
    global _catalog, _language
    previous = _catalog, _language
    _catalog, _language = _catalog_of(language), language
    try:
        yield
    finally:
        _catalog, _language = previous


def language() -> str:
    return _language


def _(message: str) -> str:
    """The message in the current language ("" stays "": gettext would give the catalog's header)."""
    return _catalog.gettext(message) if message else message


def N_(message: str) -> str:
    """A message marked for the catalog but translated later, where it is shown (`_(name)`)."""
    return message


def pgettext(context: str, message: str) -> str:
    """A message whose translation depends on where it is used ("case" a column of ids, or a case)."""
    return _catalog.pgettext(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog.ngettext(singular, plural, n)


# a library call outside the command line speaks the environment's language; the command line
# decides again for each command (`use`), click's words included
_language = language_from_environment()
_catalog = _catalog_of(_language)
