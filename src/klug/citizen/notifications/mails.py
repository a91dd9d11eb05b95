"""The text of the daily digest, in the account's language: references and links only."""

from __future__ import annotations

from klug.citizen.notifications.models import APPLICATION_MESSAGE, APPLICATION_STATUS
from klug.core.i18n import _, use_language

SIGNATURE = "\n\n-- \nklug – Stadt Kaiserslautern / City of Kaiserslautern\n"


def _line(kind: str, reference: str) -> str:
    if kind == APPLICATION_STATUS:
        return _("Application %(reference)s: new status") % {"reference": reference}
    if kind == APPLICATION_MESSAGE:
        return _("Application %(reference)s: new message from the office") % {
            "reference": reference
        }
    return _("Report no. %(reference)s: new status") % {"reference": reference}


def compose_digest(
    language: str, entries: list[tuple[str, str, str]], *, settings_link: str
) -> tuple[str, str]:
    """Subject and body for ``entries`` = (kind, reference, link), oldest first; the same
    news about the same thing twice is listed once."""
    seen: set[tuple[str, str]] = set()
    with use_language(language):
        lines = [_("Since our last summary there is news about:"), ""]
        for kind, reference, link in entries:
            if (kind, reference) in seen:
                continue
            seen.add((kind, reference))
            lines.append(f"- {_line(kind, reference)}")
            lines.append(f"  {link}")
        lines.append("")
        lines.append(_("The details are on the linked pages (applications after logging in)."))
        lines.append(
            _("Choose how you hear from us (at once, daily or not by e-mail):\n%(link)s")
            % {"link": settings_link}
        )
        subject = _("Your daily summary: news about your applications and reports")
    return subject, "\n".join(lines) + SIGNATURE
