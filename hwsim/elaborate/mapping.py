"""Mapping of network layers onto crossbar tiles (layer 4).

A layer of M×N weights (M outputs on rows, N inputs on columns) occupies a grid
of ``ceil(M/rows) × ceil(N/cols)`` tiles per *array role*: one role ``W`` for
analog SGD, ``A`` and ``C`` for the Tiki-Taka family, plus ``R`` (reference) for
TTv2/c-TTv2, ``P``/``N`` for differential PCM pairs.  A layer split over ``g_c``
column blocks needs ``(g_c − 1)·M`` digital partial-sum additions per vector.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from hwsim.errors import BuildError


@dataclass(frozen=True)
class TileSlot:
    """One tile's share of a layer array: which tile and which block of the matrix."""
    tile: int
    row0: int
    rows: int      # outputs mapped on this tile
    col0: int
    cols: int      # inputs mapped on this tile


@dataclass(frozen=True)
class LayerMap:
    name: str
    out_features: int
    in_features: int
    grid: tuple            # (row blocks, column blocks)
    arrays: dict = field(default_factory=dict)   # role -> tuple[TileSlot]

    @property
    def partial_sum_adds_per_vector(self) -> int:
        """Digital adds to combine the column blocks of one output vector."""
        return (self.grid[1] - 1) * self.out_features

    @property
    def partial_sum_adds_per_vector_t(self) -> int:
        """Digital adds to combine row blocks for the transposed MVM."""
        return (self.grid[0] - 1) * self.in_features

    def tiles(self, role: str) -> tuple:
        if role not in self.arrays:
            raise BuildError(f"layer '{self.name}' has no '{role}' array "
                             f"(arrays: {', '.join(self.arrays)})")
        return self.arrays[role]


@dataclass(frozen=True)
class Mapping:
    layers: dict                 # name -> LayerMap
    tiles_total: int
    tile_rows: int
    tile_cols: int

    @property
    def tiles_used(self) -> int:
        return sum(len(s) for lm in self.layers.values() for s in lm.arrays.values())

    def utilization(self) -> dict:
        """Fraction of cells used on each used tile."""
        out = {}
        for lm in self.layers.values():
            for role, slots in lm.arrays.items():
                for s in slots:
                    out[s.tile] = (s.rows * s.cols) / (self.tile_rows * self.tile_cols)
        return dict(sorted(out.items()))

    def __getitem__(self, name) -> LayerMap:
        if name not in self.layers:
            raise BuildError(f"no mapped layer '{name}' (layers: {', '.join(self.layers)})")
        return self.layers[name]


def map_layers(shapes, roles, tile_rows: int, tile_cols: int, tile_count: int) -> Mapping:
    """Place every (name, out_features, in_features) layer, for every array role.

    Tiles are assigned in order, one layer array after the other; a network that
    needs more tiles than the accelerator has is a :class:`BuildError` that says
    how many it needs.
    """
    roles = tuple(roles)
    if not roles:
        raise BuildError("no array roles to map")
    needed = 0
    for name, m, n in shapes:
        if m < 1 or n < 1:
            raise BuildError(f"layer '{name}' has an empty weight matrix {m}×{n}")
        needed += math.ceil(m / tile_rows) * math.ceil(n / tile_cols) * len(roles)
    if needed > tile_count:
        raise BuildError(f"the network needs {needed} tiles of {tile_rows}×{tile_cols} "
                         f"({len(roles)} arrays per layer: {', '.join(roles)}) but the accelerator "
                         f"has {tile_count}; raise tile.count or the tile size")
    layers = {}
    nxt = 0
    for name, m, n in shapes:
        gr, gc = math.ceil(m / tile_rows), math.ceil(n / tile_cols)
        arrays = {}
        for role in roles:
            slots = []
            for bi in range(gr):
                for bj in range(gc):
                    r0, c0 = bi * tile_rows, bj * tile_cols
                    slots.append(TileSlot(nxt, r0, min(tile_rows, m - r0), c0,
                                          min(tile_cols, n - c0)))
                    nxt += 1
            arrays[role] = tuple(slots)
        layers[name] = LayerMap(name, m, n, (gr, gc), arrays)
    return Mapping(layers, tile_count, tile_rows, tile_cols)
