"""examples/tutorial.ipynb runs top to bottom (nbclient, at the small sizes it selects
with HWSIM_TUTORIAL_SMALL=1) and is stored without outputs."""
import json
import os
import time
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "tutorial.ipynb"


def test_the_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


def test_the_notebook_executes(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("HWSIM_TUTORIAL_SMALL", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))          # the notebook's working directory
    # the kernel imports the hwsim these tests import (a work tree or the installed one)
    import hwsim
    root = str(Path(hwsim.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    t0 = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert time.perf_counter() - t0 < 60
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "valid accelerator 'tutorial-tile'" in text and "HwsimError:" in text
    for algo in ("float", "sgd", "c-ttv2"):
        assert f"\n{algo} " in text                   # a row of the comparison table
    assert "ADC 5 bits, 32x32 tiles" in text and "128x128:" in text and "256x256:" in text
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == 5                           # 4 report plots and the ADC sweep
    written = Path(next(ln for ln in text.splitlines() if ln.endswith("training.png")))
    assert written.parent.parent.parent == tmp_path    # the notebook's mkdtemp under TMPDIR
    assert sorted(p.name for p in written.parent.iterdir()) == [
        "area.png", "energy.png", "latency.png", "training.png", "utilization.png"]
