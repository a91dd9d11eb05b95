"""Safety programme: lawful video analytics, operator alerts, CAP warnings."""
