"""klug — the open urban platform of the city of Kaiserslautern."""
