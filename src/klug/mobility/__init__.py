"""Mobility programme: traffic, public transport, parking, disruptions."""
