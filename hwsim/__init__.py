"""hwsim — cycle-level simulator of accelerators that train neural networks with
analog in-memory computing.  See DESIGN.md for the layer table."""
__version__ = "0.1.0"
