"""Accounts, roles, login sessions, two-factor authentication, API keys."""
