"""OData as SensorThings uses it: resource paths and query options, parsed and compiled
to parameterised SQL (never string concatenation of user input)."""
