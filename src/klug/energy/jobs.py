"""Scheduled work of the energy programme: solar plant monitoring every 15 minutes."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session, sessionmaker

from klug.core.jobs import Job
from klug.energy import dashboard, monitoring

log = logging.getLogger(__name__)


def monitor_plants(factory: sessionmaker[Session]) -> int:
    """Raise alerts for underperforming plants and implausible readings; how many."""
    with factory() as session:
        try:
            created = monitoring.raise_alerts(session, dt.datetime.now(dt.UTC))
        except dashboard.NotConfigured:
            return 0
        session.commit()
    if created:
        log.info("energy monitoring raised %d alert(s)", len(created))
    return len(created)


MONITORING = Job("energy.monitoring", 15 * 60.0, monitor_plants)
