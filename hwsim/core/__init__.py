"""Core (layer 2): clocks, transactions, components, ports, stats, action ledger."""
from hwsim.core.clock import Clock, seconds_to_ticks, ticks_to_seconds
from hwsim.core.component import Component
from hwsim.core.ledger import ActionKey, ActionLedger
from hwsim.core.ports import PortSpec, check_connections, inp, out
from hwsim.core.registry import kind, kinds, register
from hwsim.core.stats import StatSpec, Stats
from hwsim.core.transaction import StageTiming, Transaction, stage_timing

__all__ = ["Clock", "Component", "ActionKey", "ActionLedger", "PortSpec", "check_connections",
           "inp", "out", "kind", "kinds", "register", "StatSpec", "Stats", "StageTiming",
           "Transaction", "stage_timing", "seconds_to_ticks", "ticks_to_seconds"]
