"""Full-text search over what the portal publishes (pages, news, events; later services)."""
