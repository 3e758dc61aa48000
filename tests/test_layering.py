"""The layer table of DESIGN.md, enforced by reading every module's imports."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "hwsim"

LAYERS = {
    "hwsim.units": 0, "hwsim.errors": 0,
    "hwsim.config": 1,
    "hwsim.physics": 2, "hwsim.core": 2, "hwsim._ext": 2,
    "hwsim.components": 3, "hwsim.energy": 3,
    "hwsim.elaborate": 4,
    "hwsim.sim": 5, "hwsim.trace": 5, "hwsim.training": 5,
    "hwsim.fit": 5,
    "hwsim.report": 6, "hwsim.sweep": 6,
    "hwsim.cli": 7,
}
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


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


MODULES = [m for m in _modules() if _package(m[0]) is not None]


def test_every_module_has_a_layer():
    unknown = [m for m, _ in _modules() if m != "hwsim" and _package(m) is None
               and m != "hwsim.__init__"]
    assert not unknown, f"modules outside the layer table: {unknown}"


@pytest.mark.parametrize("mod,path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_respect_layers(mod, path):
    own = _package(mod)
    bad = []
    for imp, line in _imports(path):
        top = imp.split(".")[0]
        if top in FORBIDDEN.get(own, ()):
            bad.append(f"{path.name}:{line} imports {imp} (forbidden in {own})")
        if not imp.startswith("hwsim"):
            continue
        dep = _package(imp)
        if dep is None:
            continue
        if LAYERS[dep] > LAYERS[own]:
            bad.append(f"{path.name}:{line}: {own} (layer {LAYERS[own]}) imports {imp} "
                       f"(layer {LAYERS[dep]})")
        if dep in FORBIDDEN_OWN.get(own, ()):
            bad.append(f"{path.name}:{line}: {own} must not import {dep}")
    assert not bad, "\n".join(bad)


def test_the_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("import simpy\nfrom hwsim.cli import main\n")
    found = list(_imports(bad))
    assert ("simpy", 1) in found and ("hwsim.cli", 2) in found
    assert LAYERS[_package("hwsim.cli")] > LAYERS[_package("hwsim.physics.devices")]
