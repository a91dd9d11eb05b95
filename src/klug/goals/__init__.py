"""Goals of the smart-city initiative: targets, milestones, indicators."""
