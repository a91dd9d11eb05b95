"""Words, stems and highlighted snippets: the language side of full-text search.

Pure functions (no database). SQLite's FTS5 has no German stemmer, so klug stems in
Python with the Snowball stemmers – the same algorithms PostgreSQL's ``german`` and
``english`` text-search configurations use – and indexes and queries the stems.
"Parkausweise" and "Parkausweis" both become ``parkausweis``.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache

import snowballstemmer
from markupsafe import Markup, escape

# Letters and digits, as FTS5's unicode61 tokenizer splits (the underscore separates).
WORD = re.compile(r"[^\W_]+")
MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_TERM_CHARS = 60
_STEMMER_NAMES = {"de": "german", "en": "english"}

# Function words dropped from queries (PostgreSQL drops them too, with its longer
# lists), so that "die Parkausweise" also finds a text without "die".
_GERMAN_STOP_WORDS = """
der die das den dem des ein eine einer einem einen eines und oder aber in im an am auf aus
bei mit nach von vom zu zum zur für über unter vor ist sind war wird werden wie was wer wo
ich du er sie es wir ihr man nicht auch als so dass mein meine sein seine kann können muss
"""
_ENGLISH_STOP_WORDS = """
a an the and or but of in on at to for from by with about into is are was were be been it
its this that these those how what who where which i you he she we they my your can do does
not no
"""
STOP_WORDS = {
    "de": frozenset(_GERMAN_STOP_WORDS.split()),
    "en": frozenset(_ENGLISH_STOP_WORDS.split()),
}

# Stemmer objects keep the word being stemmed in attributes: one set per thread.
_local = threading.local()


def _stemmer(language: str) -> snowballstemmer.stemmer:
    stemmers: dict[str, snowballstemmer.stemmer] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    found = stemmers.get(language)
    if found is None:
        found = stemmers[language] = snowballstemmer.stemmer(_STEMMER_NAMES[language])
    return found


def words(text: str) -> list[str]:
    return [match.group(0).lower() for match in WORD.finditer(text)]


@lru_cache(maxsize=100_000)
def _stem_lower(word: str, language: str) -> str:
    # A city's texts use a few ten thousand distinct words over and over; the
    # pure-Python stemmer costs ~20 µs a word, a cache hit well under one.
    return str(_stemmer(language).stemWord(word))


def stem(word: str, language: str) -> str:
    return _stem_lower(word.lower(), language)


def index_text(text: str, language: str) -> str:
    """The stems of a text, in order, as the SQLite index stores them."""
    return " ".join(_stem_lower(word, language) for word in words(text))


def query_terms(query: str, language: str) -> list[str]:
    """The words of a visitor's query: operators, quotes and punctuation are not syntax
    here, just separators, so no input can make the search fail."""
    found: list[str] = []
    for word in words(query[:MAX_QUERY_CHARS]):
        if len(word) <= MAX_TERM_CHARS and word not in found:
            found.append(word)
    meaningful = [w for w in found if w not in STOP_WORDS.get(language, frozenset())]
    return (meaningful or found)[:MAX_TERMS]


def term_stems(terms: Sequence[str], languages: Iterable[str]) -> list[frozenset[str]]:
    """Per term, its stems in each language the searched texts may be written in."""
    languages = tuple(languages)
    return [frozenset(stem(term, language) for language in languages) for term in terms]


def fts5_match(stem_groups: Sequence[frozenset[str]], column: str | None = None) -> str:
    """An FTS5 MATCH expression: every term (any of its stems) must occur.

    Stems are made of letters and digits only; quoting them as strings makes sure that
    none is read as an FTS5 keyword (``AND``, ``NEAR``) or column name.
    """
    groups = []
    for group in stem_groups:
        alternatives = " OR ".join('"' + s.replace('"', '""') + '"' for s in sorted(group))
        groups.append(f"({alternatives})")
    expression = " AND ".join(groups)
    return f"{{{column}}} : ({expression})" if column else expression


def highlight(
    text: str, stems: frozenset[str], language: str, *, width: int = 220
) -> tuple[Markup, bool]:
    """A passage of ``text`` around the first matching word, matches in ``<mark>``.

    The text is escaped piece by piece and only then are the marks added, so nothing
    from the text can become markup. Returns the snippet and whether it shows a match
    (if none does, the snippet is the text's beginning).
    """
    found = WORD.finditer(text)
    first = next((m for m in found if stem(m.group(0), language) in stems), None)
    start = 0
    if first is not None and first.start() > width // 3:
        # Start at a word boundary about a third of the width before the first match.
        start = text.rfind(" ", 0, first.start() - width // 3) + 1
    end = len(text) if len(text) - start <= width else text.rfind(" ", start, start + width)
    if end <= start:
        end = min(len(text), start + width)
    parts: list[str] = ["… " if start > 0 else ""]
    position = start
    if first is not None:
        # Only the words inside the passage are stemmed and compared.
        for match in itertools.chain([first], WORD.finditer(text, first.end(), end)):
            if match.end() > end:
                break
            if match is not first and stem(match.group(0), language) not in stems:
                continue
            parts.append(str(escape(text[position : match.start()])))
            parts.append(f"<mark>{escape(match.group(0))}</mark>")
            position = match.end()
    parts.append(str(escape(text[position:end])))
    if end < len(text):
        parts.append(" …")
    return Markup("".join(parts)), first is not None  # noqa: S704 - every piece escaped above
