"""Editors write Markdown; visitors get sanitised HTML and search gets plain text.

markdown-it-py (CommonMark) renders with raw HTML switched off, then nh3 (the Ammonia
sanitiser) keeps only an allow-list of tags, attributes and URL schemes – two
independent layers, so that neither a ``<script>`` nor a ``javascript:`` link in a
body ever reaches a page (docs/adr/0010-content-markdown-images-search.md).
"""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_parser.enable(["table", "strikethrough"])

_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre", "hr",
    "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "s", "del",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def _shift_headings(tokens: list[Token]) -> None:
    # The page's title is its only h1 (WCAG 1.3.1, 2.4.6): a body's "# Heading" is h2.
    for token in tokens:
        if token.type in {"heading_open", "heading_close"}:
            level = min(6, int(token.tag[1]) + 1)
            token.tag = f"h{level}"


def to_html(source: str) -> Markup:
    """Safe HTML of a Markdown text."""
    env: dict[str, Any] = {}
    tokens = _parser.parse(source, env)
    _shift_headings(tokens)
    rendered = _parser.renderer.render(tokens, _parser.options, env)
    cleaned = nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return Markup(cleaned)  # noqa: S704 - sanitised by nh3 just above


def to_text(source: str) -> str:
    """The words of a Markdown text without its markup (for search and summaries)."""
    blocks: list[str] = []
    for token in _parser.parse(source):
        if token.type in {"fence", "code_block"}:
            blocks.append(token.content.strip())
        elif token.type == "inline" and token.children:
            pieces = []
            for child in token.children:
                if child.type in {"text", "code_inline"}:
                    pieces.append(child.content)
                elif child.type in {"softbreak", "hardbreak"}:
                    pieces.append(" ")
            blocks.append("".join(pieces).strip())
    return "\n".join(block for block in blocks if block)


def excerpt(source: str, limit: int = 240) -> str:
    """The beginning of a text, cut at a word, for lists where no summary was written."""
    plain = " ".join(to_text(source).split())
    if len(plain) <= limit:
        return plain
    cut = plain.rfind(" ", 0, limit)
    return plain[: cut if cut > 0 else limit] + " …"
