"""The component graph as Graphviz DOT, and SVG when ``dot`` is installed (layer 4)."""
from __future__ import annotations

import shutil
import subprocess

from hwsim.elaborate.graph import expand


def to_dot(cfg) -> str:
    explicit = expand(cfg)
    lines = [f'digraph "{cfg.name}" {{', "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    groups: dict = {}
    paths = {c["path"] for c in explicit["components"]}
    for c in explicit["components"]:
        # a tile (chip.tile3) heads the cluster of its periphery (chip.tile3.adc, ...)
        p = c["path"]
        own = any(q.startswith(p + ".") for q in paths)
        groups.setdefault(p if own else p.rpartition(".")[0], []).append(c)
    for gi, (parent, comps) in enumerate(sorted(groups.items())):
        lines.append(f'  subgraph "cluster_{gi}" {{ label="{parent}";')
        for c in comps:
            name = c["path"].rpartition(".")[2]
            lines.append(f'    "{c["path"]}" [label="{name}\\n{c["kind"]}"];')
        lines.append("  }")
    for src, dst in explicit["connections"]:
        a, _, ap = src.rpartition(".")
        b, _, bp = dst.rpartition(".")
        lines.append(f'  "{a}" -> "{b}" [taillabel="{ap}", headlabel="{bp}", fontsize=7];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_graph(cfg, path: str) -> list[str]:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(to_dot(cfg))
    out = [path]
    if shutil.which("dot"):
        svg = path.rsplit(".", 1)[0] + ".svg"
        subprocess.run(["dot", "-Tsvg", path, "-o", svg], check=True)
        out.append(svg)
    return out
