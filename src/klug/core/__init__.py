"""Infrastructure shared by all domains; imports no domain."""
