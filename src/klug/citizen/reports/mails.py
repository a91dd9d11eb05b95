"""The texts of report status mails: the report's number, category, new status and link –
never a note (internal notes stay in the console; public notes are on the report's page).

Addresses given without an account have no known language: they get German and English
in one mail, each with its one-click unsubscribe link.
"""

from __future__ import annotations

from klug.citizen.reports.categories import catalogue
from klug.citizen.reports.texts import STATUS_LABELS
from klug.core.i18n import _, use_language

SIGNATURE = "\n\n-- \nklug – Stadt Kaiserslautern / City of Kaiserslautern\n"


def _category_name(code: str, language: str) -> str:
    category = catalogue().get(code)
    return category.name.get("en" if language == "en" else "de") if category else code


def compose_status(
    language: str,
    *,
    number: int,
    category_code: str,
    status: str,
    link: str,
    supporter: bool,
    unsubscribe_link: str | None = None,
) -> tuple[str, str]:
    """Subject and body (without signature) in one language."""
    with use_language(language):
        values = {
            "number": number,
            "category": _category_name(category_code, language),
            "status": _(STATUS_LABELS.get(status, status)),
            "link": link,
        }
        if supporter:
            subject = _("A report you support (no. %(number)s) has a new status") % values
            body = (
                _(
                    'The report no. %(number)s (%(category)s) that you support ("me too") '
                    "has a new status: %(status)s.\n\n"
                    "The report and the city's answers are on its page:\n%(link)s"
                )
                % values
            )
        else:
            subject = _("Your report no. %(number)s has a new status") % values
            body = (
                _(
                    "Your report no. %(number)s (%(category)s) has a new status: %(status)s.\n\n"
                    "The report and the city's answers are on its page:\n%(link)s"
                )
                % values
            )
        if unsubscribe_link is not None:
            body += "\n\n" + _(
                "You receive this e-mail because you gave this address with the report. "
                "To receive no more e-mails about it (one click, no login):\n%(link)s"
            ) % {"link": unsubscribe_link}
    return subject, body


def compose_for_account(
    language: str, *, number: int, category_code: str, status: str, link: str, supporter: bool
) -> tuple[str, str]:
    subject, body = compose_status(
        language,
        number=number,
        category_code=category_code,
        status=status,
        link=link,
        supporter=supporter,
    )
    return subject, body + SIGNATURE


def compose_for_address(
    *,
    number: int,
    category_code: str,
    status: str,
    links: dict[str, str],
    unsubscribe_links: dict[str, str],
    supporter: bool,
) -> tuple[str, str]:
    """German first, then English; ``links`` and ``unsubscribe_links`` by language."""
    parts = [
        compose_status(
            language,
            number=number,
            category_code=category_code,
            status=status,
            link=links[language],
            supporter=supporter,
            unsubscribe_link=unsubscribe_links[language],
        )
        for language in ("de", "en")
    ]
    subject = " / ".join(subject for subject, _body in parts)
    body = "\n\n-- English --\n\n".join(body for _subject, body in parts)
    return subject, body + SIGNATURE
