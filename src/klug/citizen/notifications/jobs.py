"""The daily digest: once a day at ``KLUG_DIGEST_HOUR`` (Europe/Berlin), one run in all
processes together."""

from __future__ import annotations

import datetime as dt
import functools

from klug.citizen.notifications import service as notification_service
from klug.core.jobs import Job, daily

DIGEST_JOB = "citizen.notifications.digest"


def digest(*, hour: int, base_url: str) -> Job:
    return daily(
        DIGEST_JOB,
        dt.time(hour=hour),
        functools.partial(notification_service.send_digests, base_url=base_url),
    )
