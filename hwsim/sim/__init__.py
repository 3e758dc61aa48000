"""Simulation layer (layer 5): engine, controller, programs of operations."""
