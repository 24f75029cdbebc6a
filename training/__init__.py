"""The small real training loop behind ``ixsim calibrate`` (JAX + Optax + Flax + Optuna).

Importing this package does not import JAX: the model reads calibration files through
``load_measured`` without the training extra installed.
"""

from ixsim.training.measured import CalibrationFileError, load_measured

__all__ = ["CalibrationFileError", "load_measured"]
