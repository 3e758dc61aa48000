"""Typed ports and connection checks (layer 2).

A component declares its ports (name, direction, payload type, description).  The
build connects ``a.out -> b.in`` pairs from YAML; :func:`check_connections` rejects
dangling ports, doubly connected single ports, unknown ports and type mismatches
with a :class:`BuildError` naming both ends.
"""
from __future__ import annotations

from dataclasses import dataclass

from hwsim.errors import BuildError


@dataclass(frozen=True)
class PortSpec:
    name: str
    direction: str          # "in" or "out"
    payload: str            # "digital_vector", "analog_vector", "pulses", "words", "bits", "any"
    desc: str
    multi: bool = False     # may be connected more than once (shared blocks, buses)
    optional: bool = False  # may stay unconnected


def inp(name, payload, desc, multi=False, optional=False) -> PortSpec:
    return PortSpec(name, "in", payload, desc, multi, optional)


def out(name, payload, desc, multi=False, optional=False) -> PortSpec:
    return PortSpec(name, "out", payload, desc, multi, optional)


def _compatible(a: str, b: str) -> bool:
    return a == b or "any" in (a, b)


def check_connections(components: dict, connections: list[tuple[str, str]],
                      where=lambda i: {}, unconnected: dict | None = None
                      ) -> dict[str, set[str]]:
    """Validate ``(src "path.port", dst "path.port")`` pairs.

    ``components`` maps path -> component (with a ``PORTS`` tuple of PortSpec).
    ``where(i)`` gives file/line context for connection i, ``unconnected`` the context of
    a port left unconnected (e.g. ``{"file": ..., "key": "connections"}``).  Returns the
    adjacency
    ``{src_path: {dst_path, ...}}`` used to check transaction routes.
    """
    uses: dict[tuple[str, str], int] = {}
    adjacency: dict[str, set[str]] = {p: set() for p in components}

    def split(end: str, i: int):
        path, _, port = end.rpartition(".")
        if not path or path not in components:
            raise BuildError(f"connection '{end}': no component '{path or end}'", **where(i))
        specs = {p.name: p for p in components[path].PORTS}
        if port not in specs:
            raise BuildError(f"connection '{end}': component '{path}' "
                             f"({type(components[path]).__name__}) has no port '{port}' "
                             f"(ports: {', '.join(sorted(specs))})", **where(i))
        return path, specs[port]

    for i, (src, dst) in enumerate(connections):
        sp, sspec = split(src, i)
        dp, dspec = split(dst, i)
        if sspec.direction != "out" or dspec.direction != "in":
            raise BuildError(f"connection '{src}' -> '{dst}': must go from an output port to an "
                             f"input port", **where(i))
        if not _compatible(sspec.payload, dspec.payload):
            raise BuildError(f"connection '{src}' -> '{dst}': type mismatch "
                             f"({sspec.payload} -> {dspec.payload})", **where(i))
        for (path, spec), end in (((sp, sspec), src), ((dp, dspec), dst)):
            n = uses.get((path, spec.name), 0) + 1
            uses[(path, spec.name)] = n
            if n > 1 and not spec.multi:
                raise BuildError(f"port '{end}' is connected more than once "
                                 f"(it is not a shared port)", **where(i))
        adjacency[sp].add(dp)
    for path, comp in sorted(components.items()):
        for spec in comp.PORTS:
            if not spec.optional and (path, spec.name) not in uses:
                raise BuildError(f"port '{path}.{spec.name}' ({spec.direction}, {spec.payload}) "
                                 f"is not connected", **(unconnected or {}))
    return adjacency
