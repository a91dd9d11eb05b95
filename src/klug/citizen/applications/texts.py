"""Names of statuses and history entries as people read them (English message ids)."""

from __future__ import annotations

from klug.core.i18n import N_

STATUS_LABELS = {
    "draft": N_("Draft"),
    "received": N_("Received"),
    "in_review": N_("In review"),
    "more_info_needed": N_("More information needed"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "completed": N_("Completed"),
}
