#!/usr/bin/env bash
# Run the gpu-budget calibration on a GPU machine that has no network.
#
# Run from the repository root: `bash scripts/device_calibrate.sh`. Needs $OUT (a folder whose
# contents come back) and, in .whl/, the wheels that the machine's image lacks (Optuna and its
# dependencies, cp312 manylinux or pure Python; see the download command below). Writes
# $OUT/measured.json, its three PNG plots and calibrate.log (the run's stderr): 5 files.
#
# Download the wheels (on a machine with PyPI access), into .whl/ at the repository root:
#   for spec in optuna==5.0.0 alembic==1.20.1 SQLAlchemy==2.1.9 Mako==1.4.3 MarkupSafe==3.0.4 \
#       colorlog==6.12.0 tqdm==4.70.1 PyYAML==6.0.4 typing_extensions==4.16.0 packaging==26.4; do
#     python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
#       --platform manylinux2014_x86_64 -d .whl "$spec"
#   done
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT"

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD
export PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import sys, jax, optax, flax, optuna; print(sys.version.split()[0], 'jax', jax.__version__, \
'optax', optax.__version__, 'flax', flax.__version__, 'optuna', optuna.__version__, jax.devices())"

status=0
python3 -m ixsim.training --budget gpu --device gpu --out "$OUT/measured.json" \
    2> >(tee "$OUT/calibrate.log" >&2) || status=$?
# The plots are written next to the JSON, i.e. already in $OUT.
ls -l "$OUT"
exit "$status"
