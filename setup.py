"""The optional C extension ``ixsim.sim._ckernel`` (C forms of two laws of ``sim/kernel.py``;
everything else is declared in pyproject.toml). Optional: without a C compiler the install
goes on and ``sim/kernel.py`` uses its Python forms. IEEE semantics kept: no fast-math, and no
contraction of a multiply and an add into one fused, once-rounded operation."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "ixsim.sim._ckernel", ["sim/_ckernel.c"], optional=True,
    extra_compile_args=["-O2", "-fno-fast-math", "-ffp-contract=off"])])
