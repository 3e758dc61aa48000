"""Hardware blocks (layer 3), one per module.

Each module declares its block class (``@register`` with the kind registry of
:mod:`hwsim.core.registry`); importing this package imports every module in it, so a
new block kind is a new module here (plus, for the compact form's tile template, its
row in :data:`hwsim.config.blocks.BLOCKS`).  The names below are re-exported for
``from hwsim.components import Tile``.
"""
import importlib
import pkgutil

from hwsim.components.accumulator import DigitalAccumulator
from hwsim.components.adc import ADC
from hwsim.components.buffer import Buffer
from hwsim.components.chopper import Chopper
from hwsim.components.dac import DAC
from hwsim.components.dram import DRAM
from hwsim.components.digital_unit import DigitalUnit
from hwsim.components.interconnect import Interconnect
from hwsim.components.lanes import LanedComponent
from hwsim.components.line_buffer import LineBuffer
from hwsim.components.pulse_generator import PulseGenerator
from hwsim.components.tile import Tile

__all__ = ["ADC", "Buffer", "Chopper", "DAC", "DRAM", "DigitalAccumulator", "DigitalUnit",
           "Interconnect", "LanedComponent", "LineBuffer", "PulseGenerator", "Tile"]

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")
