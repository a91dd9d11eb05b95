"""Roles, permissions and API-key scopes: the whole access matrix in one place.

Least privilege: a role holds only what its work needs; routes name the one
permission they require (see ``klug.identity.deps.require``).
"""

from __future__ import annotations

from enum import StrEnum

from klug.core.i18n import N_


class Role(StrEnum):
    CITIZEN = "citizen"
    EDITOR = "editor"
    CASEWORKER = "caseworker"
    OPERATOR_ENERGY = "operator_energy"
    OPERATOR_MOBILITY = "operator_mobility"
    OPERATOR_SAFETY = "operator_safety"
    ADMIN = "admin"


STAFF_ROLES = frozenset(Role) - {Role.CITIZEN}

ROLE_LABELS: dict[Role, str] = {
    Role.CITIZEN: N_("Citizen"),
    Role.EDITOR: N_("Editor"),
    Role.CASEWORKER: N_("Caseworker"),
    Role.OPERATOR_ENERGY: N_("Energy operator"),
    Role.OPERATOR_MOBILITY: N_("Mobility operator"),
    Role.OPERATOR_SAFETY: N_("Safety operator"),
    Role.ADMIN: N_("Administrator"),
}


class Permission(StrEnum):
    ACCOUNT_SELF = "account.self"
    CONSOLE = "console.access"
    ACCOUNTS_MANAGE = "accounts.manage"
    APIKEYS_MANAGE = "apikeys.manage"
    AUDIT_READ = "audit.read"
    NOTICES_MANAGE = "notices.manage"
    FEEDBACK_READ = "feedback.read"
    METRICS_READ = "metrics.read"
    SENSORS_READ = "sensors.read"
    SENSORS_WRITE = "sensors.write"
    ENERGY_MANAGE = "energy.manage"
    # Citizen services: reports (Mängelmelder) handled by staff; machines (Open311
    # clients, apps) submit reports with an API key; editors keep pages, news, events.
    REPORTS_MANAGE = "reports.manage"
    CASES_MANAGE = "cases.manage"
    REPORTS_SUBMIT = "reports.submit"
    CONTENT_MANAGE = "content.manage"


_STAFF_BASE = {Permission.ACCOUNT_SELF, Permission.CONSOLE, Permission.SENSORS_READ}
_OPERATOR = _STAFF_BASE | {Permission.SENSORS_WRITE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CITIZEN: frozenset({Permission.ACCOUNT_SELF}),
    Role.EDITOR: frozenset(
        _STAFF_BASE
        | {Permission.NOTICES_MANAGE, Permission.FEEDBACK_READ, Permission.CONTENT_MANAGE}
    ),
    Role.CASEWORKER: frozenset(_STAFF_BASE | {Permission.REPORTS_MANAGE, Permission.CASES_MANAGE}),
    Role.OPERATOR_ENERGY: frozenset(_OPERATOR | {Permission.ENERGY_MANAGE}),
    Role.OPERATOR_MOBILITY: frozenset(_OPERATOR),
    Role.OPERATOR_SAFETY: frozenset(_OPERATOR),
    Role.ADMIN: frozenset(
        _STAFF_BASE
        | {
            Permission.ACCOUNTS_MANAGE,
            Permission.APIKEYS_MANAGE,
            Permission.AUDIT_READ,
            Permission.NOTICES_MANAGE,
            Permission.FEEDBACK_READ,
            Permission.METRICS_READ,
            Permission.SENSORS_WRITE,
            Permission.ENERGY_MANAGE,
            Permission.REPORTS_MANAGE,
            Permission.CASES_MANAGE,
            Permission.CONTENT_MANAGE,
        }
    ),
}

# What a machine may be allowed to do with an API key. Account management and
# the console stay with people, who log in with a second factor.
API_SCOPES: frozenset[Permission] = frozenset(
    {
        Permission.NOTICES_MANAGE,
        Permission.METRICS_READ,
        Permission.AUDIT_READ,
        Permission.SENSORS_READ,
        Permission.SENSORS_WRITE,
        Permission.REPORTS_SUBMIT,
    }
)


def parse_scopes(text: str) -> frozenset[Permission]:
    """``"notices.manage,metrics.read"`` → scopes; unknown or non-machine scopes raise."""
    scopes: set[Permission] = set()
    for raw in text.replace(" ", "").split(","):
        if not raw:
            continue
        raw = raw.replace(":", ".")  # "sensors:write" as the SensorThings issue spells it
        try:
            scope = Permission(raw)
        except ValueError:
            raise ValueError(
                f"unknown scope {raw!r}; known: {', '.join(sorted(API_SCOPES))}"
            ) from None
        if scope not in API_SCOPES:
            raise ValueError(f"scope {raw!r} cannot be given to an API key")
        scopes.add(scope)
    if not scopes:
        raise ValueError("an API key needs at least one scope")
    return frozenset(scopes)
