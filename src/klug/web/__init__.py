"""The web shell: layout, static files, shell pages and operations endpoints."""
