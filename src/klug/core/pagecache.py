"""Rendered pages for anonymous visitors, kept in each process for a few seconds.

Most visitors of public pages (a service, a search) are not logged in, and for them a
page is the same for everyone except the form token of the visitor's CSRF cookie. A
page that opts in (``render(..., anonymous_version=…)``) is rendered once with a
placeholder for that token, kept per (template, path, query, language), and served to
the next anonymous visitors with their own token put in.

An entry is used only while the page's own data is unchanged – the caller's version
(e.g. the search index's answer object, or a constant for pages built from files read
at start-up) compares equal – and for at most ``TTL_S``: the parts every page shares
(current notices, the demo banner) are themselves kept per process for 5 s, so a page
is at most that much older than a fresh one. Logged-in visitors get a fresh page unless
the route passes ``account_version`` too; their pages are then kept per principal
(``klug.core.web.render``), typically with a data version (``klug.core.versions``).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

TTL_S = 5.0
MAX_ENTRIES = 1024
# Stands in for the visitor's form token in a kept page; random per process, so no
# text a page shows can contain it by accident.
TOKEN_PLACEHOLDER = f"klug-form-token-{secrets.token_hex(16)}"


@dataclass(frozen=True)
class _Entry:
    version: Any
    html: str
    status_code: int
    expires_at: float


class PageCache:
    def __init__(self, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def page(
        self,
        key: Hashable,
        version: Any,
        token: str,
        build: Callable[[str], tuple[str, int]],
    ) -> tuple[str, int]:
        """The page for ``key`` with ``token`` as the form token; ``build`` renders it
        (given the token to write) when no fresh entry of this version is kept."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None or entry.expires_at <= now or not _same(entry.version, version):
            html, status_code = build(TOKEN_PLACEHOLDER)
            entry = _Entry(version, html, status_code, now + self.ttl_s)
            with self._lock:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return entry.html.replace(TOKEN_PLACEHOLDER, token), entry.status_code

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _same(kept: Any, wanted: Any) -> bool:
    return kept is wanted or bool(kept == wanted)
