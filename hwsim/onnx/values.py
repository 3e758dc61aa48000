"""The importer's activations (:class:`Val`), shared by the walk and its op handlers."""
from __future__ import annotations

from typing import NamedTuple


class Val(NamedTuple):
    """An activation: the item producing it (``input``: the network input), its
    per-sample shape, and what a consumer must still apply (a transpose of the last two
    axes, a constant factor, a causal mask) — folded into a matmul or softmax."""
    name: str
    shape: tuple
    transposed: bool = False
    scale: float = 1.0
    causal: bool = False

    @property
    def plain(self) -> bool:
        return not self.transposed and self.scale == 1.0 and not self.causal


def v(shape: tuple, name: str = "") -> Val:
    """A plain activation of ``shape`` (its item's name filled in when emitted)."""
    return Val(name, tuple(shape))
