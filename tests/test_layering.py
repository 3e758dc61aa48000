"""The layer table of DESIGN.md and the absence of import cycles, enforced by reading every
module's imports: module-level and function-level, absolute (``import hwsim.x``,
``from hwsim.x import y``, ``from hwsim import x``) and relative (``from . import x``,
``from ..x import y``)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "hwsim"

LAYERS = {
    "hwsim.units": 0, "hwsim.errors": 0, "hwsim.version": 0,
    "hwsim.config": 1,
    # device models, one module each: between config and physics (they import
    # hwsim.config only; their loader is hwsim.devices.loader; hwsim.physics uses them)
    "hwsim.devices": 1,
    "hwsim.physics": 2, "hwsim.core": 2, "hwsim._ext": 2,
    "hwsim.components": 3, "hwsim.energy": 3,
    "hwsim.elaborate": 4,
    "hwsim.sim": 5, "hwsim.trace": 5, "hwsim.training": 5, "hwsim.onnx": 5, "hwsim.fit": 5,
    "hwsim.report": 6, "hwsim.sweep": 6,
    "hwsim.api": 7, "hwsim.cli": 7,
}
#: the package root (``hwsim/__init__.py`` re-exports the API): above every layer, so no
#: module of ours may import it (``from hwsim import units`` imports ``hwsim.units``).
ROOT_LAYER = 8
#: third-party packages a layer must never import (DESIGN.md "never imports").
FORBIDDEN = {
    "hwsim.config": {"simpy"},
    "hwsim.physics": {"simpy", "yaml"},
    "hwsim.energy": {"simpy"},
}
#: same-layer packages that must not import each other.
FORBIDDEN_OWN = {"hwsim.core": {"hwsim.physics"}, "hwsim.config": {"hwsim.physics"},
                 "hwsim.physics": {"hwsim.core"}}


def _package(mod: str) -> str | None:
    best = None
    for name in LAYERS:
        if mod == name or mod.startswith(name + "."):
            if best is None or len(name) > len(best):
                best = name
    return best


def _layer(mod: str) -> int | None:
    if mod == "hwsim":
        return ROOT_LAYER
    pkg = _package(mod)
    return None if pkg is None else LAYERS[pkg]


def _modules(root: Path = ROOT) -> dict:
    """``{dotted module name: path}`` of every module under ``root`` (a package dir)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(path: Path, mod: str = "", known=()):
    """``(imported module, line)`` for every import statement anywhere in the file.

    ``from X import y`` yields ``X.y`` when that is a module of ours (``known``), else
    ``X``; relative imports are resolved against ``mod`` (the importing module's name).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for a in node.names:
                sub = f"{target}.{a.name}"
                yield (sub if sub in known else target), node.lineno


MODULES = _modules()
GRAPH = {m: sorted({imp for imp, _ in _imports(p, m, MODULES) if imp in MODULES} - {m})
         for m, p in MODULES.items()}


def _cycles(graph: dict) -> list[frozenset]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(graph.get(w, ()))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    scc = set()
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        scc.add(w)
                        if w == v:
                            break
                    if len(scc) > 1:
                        out.append(frozenset(scc))
    return out


def _package_graph(graph: dict) -> dict:
    """The module graph collapsed onto the packages of the layer table."""
    out = {}
    for mod, deps in graph.items():
        own = _package(mod) or mod
        out.setdefault(own, set()).update((_package(d) or d) for d in deps)
    return {p: sorted(d - {p}) for p, d in out.items()}


def _all_cycles() -> set:
    return set(_cycles(GRAPH)) | set(_cycles(_package_graph(GRAPH)))


def test_every_module_has_a_layer():
    unknown = [m for m in MODULES if m != "hwsim" and _package(m) is None]
    assert not unknown, f"modules outside the layer table: {unknown}"


LAYERED = sorted(m for m in MODULES if m != "hwsim")


@pytest.mark.parametrize("mod", LAYERED)
def test_imports_respect_layers(mod):
    path, own = MODULES[mod], _package(mod)
    bad = []
    for imp, line in _imports(path, mod, MODULES):
        top = imp.split(".")[0]
        if top in FORBIDDEN.get(own, ()):
            bad.append(f"{path.name}:{line} imports {imp} (forbidden in {own})")
        if top != "hwsim" or _layer(imp) is None:
            continue
        if _layer(imp) > LAYERS[own]:
            bad.append(f"{path.name}:{line}: {own} (layer {LAYERS[own]}) imports {imp} "
                       f"(layer {_layer(imp)})")
        if _package(imp) in FORBIDDEN_OWN.get(own, ()):
            bad.append(f"{path.name}:{line}: {own} must not import {_package(imp)}")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    """No cycle between modules, nor between the packages of the layer table."""
    cycles = [sorted(c) for c in _all_cycles()]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)



def test_the_checker_reads_every_import_form(tmp_path):
    """Module-level, function-level, ``from pkg import module`` and relative imports."""
    pkg = tmp_path / "hwsim"
    (pkg / "sub").mkdir(parents=True)
    for name in ("__init__.py", "units.py", "cli.py", "sub/__init__.py", "sub/b.py"):
        (pkg / name).write_text("")
    (pkg / "sub" / "a.py").write_text(
        "import simpy\nfrom hwsim import units\n\n\ndef f():\n    from hwsim.cli import main\n"
        "from . import b\nfrom .. import cli\nfrom .b import x\nfrom hwsim import run\n")
    mods = _modules(pkg)
    found = sorted(_imports(pkg / "sub" / "a.py", "hwsim.sub.a", mods), key=lambda x: x[1])
    assert found == [("simpy", 1), ("hwsim.units", 2), ("hwsim.cli", 6), ("hwsim.sub.b", 7),
                     ("hwsim.cli", 8), ("hwsim.sub.b", 9), ("hwsim", 10)]
    assert _layer("hwsim") > _layer("hwsim.cli") > _layer("hwsim.physics.devices")


def test_the_checker_finds_cycles():
    g = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["f"], "f": ["e"], "g": []}
    assert set(_cycles(g)) == {frozenset("abc"), frozenset("ef")}
    assert _cycles({"a": ["b"], "b": []}) == []
    g = {"hwsim.sim.x": ["hwsim.trace.y"], "hwsim.trace.y": ["hwsim.sim.z"], "hwsim.sim.z": []}
    assert _cycles(g) == [] and _cycles(_package_graph(g)) == [
        frozenset({"hwsim.sim", "hwsim.trace"})]
