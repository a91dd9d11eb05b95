"""Sensor data backbone: OGC SensorThings API, MQTT ingestion, live push."""
