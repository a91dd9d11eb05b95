"""The texts of account e-mails, in the account's language."""

from __future__ import annotations

from klug.core.i18n import _, use_language

SIGNATURE = "\n\n-- \nklug – Stadt Kaiserslautern / City of Kaiserslautern\n"


def verify_address(language: str, link: str) -> tuple[str, str]:
    with use_language(language):
        subject = _("Please confirm your e-mail address")
        body = _(
            "Welcome to klug, the city platform of Kaiserslautern.\n\n"
            "Please confirm your e-mail address by opening this link within 24 hours:\n{link}\n\n"
            "If you did not register, you can ignore this e-mail; no account will be activated."
        ).format(link=link)
    return subject, body + SIGNATURE


def already_registered(language: str, login_link: str, reset_link: str) -> tuple[str, str]:
    with use_language(language):
        subject = _("Registration attempt with your e-mail address")
        body = _(
            "Someone tried to register a new account with your e-mail address, "
            "which already has an account.\n\n"
            "If that was you, log in here: {login}\n"
            "Forgotten your password? Reset it here: {reset}\n\n"
            "If it was not you, you can ignore this e-mail."
        ).format(login=login_link, reset=reset_link)
    return subject, body + SIGNATURE


def password_reset(language: str, link: str) -> tuple[str, str]:
    with use_language(language):
        subject = _("Reset your password")
        body = _(
            "You asked to reset the password of your klug account.\n\n"
            "Open this link within one hour to choose a new password:\n{link}\n\n"
            "Resetting the password also unlocks a locked account and signs out all sessions.\n"
            "If you did not ask for this, you can ignore this e-mail."
        ).format(link=link)
    return subject, body + SIGNATURE


def account_locked(language: str, unlock_link: str) -> tuple[str, str]:
    with use_language(language):
        subject = _("Your account has been locked")
        body = _(
            "Your klug account was locked after too many failed login attempts.\n\n"
            "If these attempts were yours, unlock your account with this link (valid 24 hours):\n"
            "{link}\n\n"
            "If they were not, someone may know your e-mail address: after unlocking, "
            "consider choosing a new password."
        ).format(link=unlock_link)
    return subject, body + SIGNATURE


def account_created(language: str, link: str) -> tuple[str, str]:
    with use_language(language):
        subject = _("An account on klug has been created for you")
        body = _(
            "The city administration of Kaiserslautern has created an account for you on klug.\n\n"
            "Choose your password with this link (valid 72 hours):\n{link}\n\n"
            "Staff accounts need a second factor: after the first login you will set up an "
            "authenticator app."
        ).format(link=link)
    return subject, body + SIGNATURE
