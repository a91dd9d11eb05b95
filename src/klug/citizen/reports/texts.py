"""Words the report pages share: status names (translated where they are shown)."""

from __future__ import annotations

from klug.core.i18n import N_

STATUS_LABELS = {
    "received": N_("Received"),
    "in_progress": N_("In progress"),
    "closed": N_("Closed"),
}
