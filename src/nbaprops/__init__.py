"""nbaprops: honest NBA player prop predictions (points, rebounds, assists, threes, combos)."""

import os

# OpenMP threads (XGBoost's) sleep instead of spinning when idle, before any library
# loads OpenMP: a walk-forward fits systems side by side on few cores, where a
# spinning thread burns the time another fit needs. An explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
