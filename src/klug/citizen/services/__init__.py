"""The service catalogue (Leistungen): what the city offers, who may apply, what it takes."""
