"""Build script for hwsim.

Every ``cython_ext/*.pyx`` compiles into ``hwsim._ext.<name>``.  The Cython
compiler directives live here, in one place, for every kernel.
The shipped ``configs/`` tree is installed as ``hwsim/configs`` so that
``hwsim run`` works from any directory on the embedded defaults.
"""
import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
    "nonecheck": False,
}


def _extensions():
    import Cython
    # the Cython that compiled the kernels, recorded in every report (Cython itself is a
    # build dependency only, so it is usually not installed where hwsim runs)
    built_with = ("HWSIM_CYTHON_VERSION", '"%s"' % Cython.__version__)
    exts = []
    for path in sorted(glob.glob(os.path.join("cython_ext", "*.pyx"))):
        name = os.path.splitext(os.path.basename(path))[0]
        exts.append(Extension(
            f"hwsim._ext.{name}", [path],
            include_dirs=[numpy.get_include(), "cython_ext"],   # + our C headers
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"), built_with],
            # no FMA contraction: kernels do the same IEEE operations as their NumPy oracles
            extra_compile_args=["-O3", "-ffp-contract=off"],
        ))
    return cythonize(exts, compiler_directives=COMPILER_DIRECTIVES, quiet=True,
                     include_path=["cython_ext"])          # shared .pxd declarations


def _config_files():
    out = []
    for path in glob.glob(os.path.join("configs", "**", "*"), recursive=True):
        if os.path.isfile(path):
            out.append(os.path.relpath(path, "configs"))
    return out


setup(
    name="hwsim",
    version="0.1.0",
    description="Cycle-level simulator of analog in-memory training accelerators",
    python_requires=">=3.11",
    packages=find_packages(include=["hwsim", "hwsim.*"]) + ["hwsim.configs"],
    package_dir={"hwsim.configs": "configs"},
    package_data={"hwsim.configs": _config_files()},
    ext_modules=_extensions(),
    install_requires=[
        "numpy>=1.26",
        "simpy>=4.1",
        "PyYAML>=6.0",
        # scikit-learn ships the 8x8 digits data set: the quickstart needs no download.
        "scikit-learn>=1.3",
        # tqdm: progress bars for long runs, replays and sweeps.
        "tqdm>=4.66",
        # threadpoolctl: one BLAS thread for the small mini-batch MVMs (30x faster here).
        "threadpoolctl>=3.1",
    ],
    extras_require={
        # the test extra pulls the optional extras too, so CI exercises plots, Dask and ONNX;
        # nbclient + ipykernel execute examples/tutorial.ipynb in the suite (a notebook
        # that is not run rots; tests/examples/test_tutorial.py)
        "test": ["pytest>=8", "hypothesis>=6.100", "matplotlib>=3.7", "dask[distributed]>=2024.1",
                 "onnx>=1.14", "nbclient>=0.9", "ipykernel>=6"],
        "plot": ["matplotlib>=3.7"],
        "dask": ["dask[distributed]>=2024.1"],
        "onnx": ["onnx>=1.14"],
    },
    entry_points={"console_scripts": ["hwsim=hwsim.cli:main"]},
    zip_safe=False,
)
