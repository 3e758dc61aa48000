"""Hardware blocks (layer 3), one per module.  Importing this package registers
every kind with :mod:`hwsim.core.registry`."""
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
