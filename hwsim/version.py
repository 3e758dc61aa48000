"""The version of hwsim (layer 0)."""
__version__ = "0.1.0"
