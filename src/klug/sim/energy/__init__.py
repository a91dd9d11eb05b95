"""The demo city's electricity: PV parks, rooftop PV, a biomass CHP, the city load, weather.

Everything is simulated and labelled so (``properties.simulated`` on Things and
Datastreams, descriptions, ``simulated`` on every energy unit). ``seed_energy`` creates
the meters with their history and the energy configuration; ``EnergyFeeder`` then
delivers the new values through the SensorThings API, as real meters would.
"""

from klug.sim.energy.feeder import EnergyFeeder, create_feeder_key, demo_feeder, feeder_streams
from klug.sim.energy.model import simulate
from klug.sim.energy.seed import seed_energy

__all__ = [
    "EnergyFeeder",
    "create_feeder_key",
    "demo_feeder",
    "feeder_streams",
    "seed_energy",
    "simulate",
]
