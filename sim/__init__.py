"""The simulated world: vendor models, faults, a broker, and a SimPy runtime.

Everything here runs in simulated time and draws randomness only from named
streams of one seed (``sim.rng``), so a scenario and a seed replay exactly.
"""
