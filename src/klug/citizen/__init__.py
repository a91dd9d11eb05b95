"""Citizen services: content, online services, applications, reports, messages."""
