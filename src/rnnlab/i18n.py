"""The reports' language: which one (`--lang`, else $RNNLAB_LANG, else English), and
its texts, from the gettext catalogue in report/locale.

The code's English texts are the message ids: English needs no catalogue.  Another
language's texts are in report/locale/LANG/LC_MESSAGES/rnnlab.po, which Babel reads
and compiles in memory the first time the language is asked for (a few
milliseconds), so the .po file is the only copy of the translations.  The system
locale (LANG, LC_ALL) never chooses: a report's language is asked for.

Only the reports (Markdown, HTML and their pictures) are translated; what the
commands print and the CSV files stay English, for scripts.

This module is imported by the command line's parser: keep it light.
"""

import functools
import gettext
import io
import os
from pathlib import Path

from .errors import RnnlabError

LANGUAGES = {"en": "English", "ko": "Korean, 한국어"}
ENVIRONMENT = "RNNLAB_LANG"
DOMAIN = "rnnlab"
LOCALE = Path(__file__).resolve().parent / "report" / "locale"


def N_(message: str) -> str:
    """Marks a text for the catalogue where it is defined; it is translated where used."""
    return message


def language(lang: str | None = None) -> str:
    """The report's language: `lang` (--lang), else $RNNLAB_LANG, else English; its
    texts are loaded now, so that a problem shows before any training."""
    source = "--lang"
    if lang is None:
        lang, source = os.environ.get(ENVIRONMENT, "").strip() or "en", ENVIRONMENT
    _known(lang, source)
    translation(lang)
    return lang


def _known(lang, source="--lang") -> None:
    if lang not in LANGUAGES:
        choices = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
        raise RnnlabError(f"unknown report language {lang!r} ({source}); choose one of: {choices}")


def catalogue(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translation(lang: str = "en") -> gettext.NullTranslations:
    """The texts of `lang`: `translation(lang).gettext(english)`."""
    _known(lang)
    if lang == "en":
        return gettext.NullTranslations()
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
    except ImportError:
        raise RnnlabError(
            f"reports in {LANGUAGES[lang]} need Babel: pip install babel, or choose --lang en"
        ) from None

    with catalogue(lang).open("rb") as po:
        messages = read_po(po, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, messages)  # fuzzy entries left out: they stay English
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(lang: str = "en"):
    """The function that translates into `lang`; call it `_` where texts are written."""
    return translation(lang).gettext
