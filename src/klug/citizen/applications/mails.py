"""The texts of application mails, in the applicant's language.

They carry the reference and a link – never answers, notes or messages: a mail
leaves the city's systems, the content stays behind the login.
"""

from __future__ import annotations

from klug.citizen.applications.texts import STATUS_LABELS
from klug.core.i18n import _, use_language

SIGNATURE = "\n\n-- \nklug – Stadt Kaiserslautern / City of Kaiserslautern\n"


def compose(
    kind: str, language: str, *, reference: str, link: str, status: str | None = None
) -> tuple[str, str]:
    """Subject and body of a ``submitted``, ``status`` or ``message`` mail."""
    with use_language(language):
        if kind == "submitted":
            subject = _("Your application %(reference)s has been received") % {
                "reference": reference
            }
            body = _(
                "Thank you. Your application has been received under the reference "
                "%(reference)s.\n\n"
                "Follow its status, download the receipt and write to the office here:\n"
                "%(link)s"
            ) % {"reference": reference, "link": link}
        elif kind == "status":
            label = _(STATUS_LABELS[status or ""])
            subject = _("Your application %(reference)s: new status") % {"reference": reference}
            body = _(
                "The status of your application %(reference)s has changed to: %(status)s.\n\n"
                "Details are on the page of your application:\n%(link)s"
            ) % {"reference": reference, "status": label, "link": link}
        else:
            subject = _("New message about your application %(reference)s") % {
                "reference": reference
            }
            body = _(
                "There is a new message about your application %(reference)s.\n\n"
                "Read it after logging in:\n%(link)s"
            ) % {"reference": reference, "link": link}
    return subject, body + SIGNATURE
