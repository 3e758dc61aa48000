"""Sweep plots stay readable at hundreds of points (hwsim.sweep.plots): only front
points are labelled (and never two labels on top of each other), axes spanning decades
are logarithmic, breakdown bars are the front points with tick labels that do not
overlap.  The points are synthetic (closed-form metrics), the front is brute force."""
import itertools
import random
from types import SimpleNamespace

import pytest

from hwsim.sweep.plots import MAX_BARS, MAX_LABELS, figures, spread, write_plots

pytest.importorskip("matplotlib")
KEYS = ["tile.rows", "tile.periphery.adc.bits", "tile.periphery.adc.columns_per_adc"]
OBJ = {"energy_per_sample": "min", "latency_per_sample": "min", "area": "min"}


def _dominated(p, q):          # q dominates p (all objectives minimised)
    a = [p["metrics"][o] for o in OBJ]
    b = [q["metrics"][o] for o in OBJ]
    return all(y <= x for x, y in zip(a, b)) and any(y < x for x, y in zip(a, b))


@pytest.fixture(scope="module")
def sweep():
    rng = random.Random(0)
    rows = []
    for i, (r, b, c) in enumerate(itertools.product([64, 128, 256, 512, 1024], range(4, 11),
                                                    [1, 2, 4, 8, 16, 32, 64, 128])):
        e = 1e-9 * (r / 64) ** 0.5 * 2 ** (b - 4) / c ** 0.3 * rng.uniform(0.8, 1.2)
        lat = 1e-6 * c * (1 + b / 10) / (r / 64) ** 0.7 * rng.uniform(0.9, 1.1)
        a = 1e-6 * (r / 64) ** 1.2 * 2 ** (b / 3) / c * rng.uniform(0.9, 1.1)
        rows.append({"id": f"p{i}", "params": dict(zip(KEYS, (r, b, c))), "status": "ok",
                     "metrics": {"energy_per_sample": e, "latency_per_sample": lat, "area": a},
                     "breakdown": {"per": "sample",
                                   "energy_by_kind_J": {"ADC": 0.7 * e, "Tile": 0.3 * e},
                                   "latency_by_phase_s": {"forward": 0.6 * lat, "update": 0.4 * lat}}})
    for p in rows:
        p["pareto"] = not any(_dominated(p, q) for q in rows)
    spec = SimpleNamespace(name="synthetic", keys=KEYS, objectives=OBJ)
    return spec, rows


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_spread_keeps_the_ends():
    assert spread(list(range(100)), 5) == [0, 25, 50, 74, 99]
    assert spread([1, 2], 5) == [1, 2]


def test_scatter_labels_only_the_front_without_overlap_on_log_axes(sweep):
    spec, rows = sweep
    assert len(rows) == 280 and 5 < sum(r["pareto"] for r in rows) < 60
    fig = figures(spec, rows)["scatter"]
    renderer = _renderer(fig)
    front_labels = {",".join(str(r["params"][k]) for k in KEYS) for r in rows if r["pareto"]}
    for ax in fig.axes:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"   # > 30× spans
        texts = [t for t in ax.texts]
        assert 0 < len(texts) <= MAX_LABELS
        assert all(t.get_text() in front_labels for t in texts)
        boxes = [t.get_window_extent(renderer) for t in texts]
        assert not any(_overlap(a, b) for a, b in itertools.combinations(boxes, 2))
        assert "(min)" in ax.get_xlabel() and "[" in ax.get_ylabel()


def test_breakdowns_are_front_points_with_readable_ticks(sweep, tmp_path):
    spec, rows = sweep
    figs = figures(spec, rows)
    n_front = sum(r["pareto"] for r in rows)
    for stem in ("energy_breakdown", "latency_breakdown"):
        fig = figs[stem]
        ax = fig.axes[0]
        ticks = ax.get_xticklabels()
        assert len(ticks) == min(n_front, MAX_BARS) and "Pareto-front points" in ax.get_title()
        renderer = _renderer(fig)
        boxes = [t.get_window_extent(renderer) for t in ticks]
        assert not any(_overlap(a, b) for a, b in zip(boxes, boxes[1:]))
    assert figs["energy_breakdown"].axes[0].get_ylabel().startswith("energy [")
    written = write_plots(spec, rows, tmp_path)
    assert sorted(p.rsplit("/", 1)[1] for p in written) == sorted(
        f"{s}.{e}" for s in ("scatter", "energy_breakdown", "latency_breakdown")
        for e in ("png", "svg"))


def test_zip_partners_are_left_out_of_labels_and_narrow_axes_keep_apart():
    """A zip group (tile.cols and tile.count follow tile.rows) labels by tile.rows only;
    a linear axis over a narrow range (2.568–2.571 ms, as the ResNet-32 tile sweep) gets
    few ticks in ms, without an offset, and its tick labels do not overlap."""
    keys = ["tile.periphery.adc.bits", "tile.rows", "tile.cols", "tile.count"]
    spec = SimpleNamespace(name="zip", keys=keys,
                           objectives={"energy_per_sample": "min", "latency_per_sample": "min"})
    rows = []
    for i, (b, (r, n)) in enumerate(itertools.product(range(4, 11), [(64, 498), (128, 297),
                                                                      (256, 180)])):
        rows.append({"id": f"p{i}", "params": dict(zip(keys, (b, r, r, n))), "status": "ok",
                     "pareto": b == 4, "breakdown": None,
                     "metrics": {"energy_per_sample": 5.4e-5 + 1e-6 * b,
                                 "latency_per_sample": 2.568e-3 + 1e-6 * r / 64}})
    from hwsim.sweep.plots import label_keys
    assert label_keys(spec, rows) == ["tile.periphery.adc.bits", "tile.rows"]
    fig = figures(spec, rows)["scatter"]
    ax = fig.axes[0]
    renderer = _renderer(fig)
    assert ax.get_xlabel() == "energy_per_sample [µJ] (min)"
    assert ax.get_ylabel() == "latency_per_sample [ms] (min)"
    assert ax.get_xscale() == ax.get_yscale() == "linear"
    assert ax.yaxis.get_offset_text().get_text() == ""
    for axis in (ax.get_xticklabels(), ax.get_yticklabels()):
        boxes = [t.get_window_extent(renderer) for t in axis if t.get_text()]
        assert 2 <= len(boxes) <= 6
        assert not any(_overlap(a, b) for a, b in itertools.combinations(boxes, 2))
    assert {t.get_text() for t in ax.texts} <= {"4,64", "4,128", "4,256"}
