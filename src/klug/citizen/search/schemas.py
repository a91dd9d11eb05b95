"""What the search API answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SearchHitRead(BaseModel):
    kind: str = Field(description="page, news, event (services later)")
    key: str
    path: str = Field(description="The page's path in the requested language")
    language: str = Field(description="The language the hit's text is written in")
    title_html: str = Field(description="The title, HTML-escaped, matches in <mark>")
    snippet_html: str = Field(description="A passage, HTML-escaped, matches in <mark>")


class SearchResultsRead(BaseModel):
    query: str
    terms: list[str] = Field(description="The words searched for (operators are not syntax)")
    total: int
    hits: list[SearchHitRead]
