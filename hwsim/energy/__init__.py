"""Energy and area estimation (layer 3): the action ledger priced by a technology table."""
from hwsim.energy.estimator import (AreaReport, AreaRow, EnergyReport, EnergyRow, area_report,
                                    estimate, node_energy)
from hwsim.energy.table import Price, TechnologyTable, UnpricedError

__all__ = ["AreaReport", "AreaRow", "EnergyReport", "EnergyRow", "Price", "TechnologyTable",
           "UnpricedError", "area_report", "estimate", "node_energy"]
