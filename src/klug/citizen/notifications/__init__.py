"""Mails about a person's applications and reports, as they want them: at once, in a daily
digest, or not at all (the status is then only in the account)."""
