"""The small real training loop behind ``ixsim calibrate`` (JAX + Optax + Flax + Optuna).

Its output file is read and validated on the scenario side (``ixsim.sim.measured``), so the
model reads a calibration without the training extra installed.
"""
