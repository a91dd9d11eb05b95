"""Energy programme: renewable share, PV plants, metering, CO2, forecasts."""
