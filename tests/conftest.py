"""Test configuration: a bounded hypothesis profile keeps the whole suite to minutes on 2 cores."""

import os
import sys

# Small matmuls are faster single-threaded, and test runs share 2 cores with each other; this
# only takes effect if numpy was not imported before this file.
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=12, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _reset_engine_state():
    """Each test starts with float32 as default dtype, gradients on and a fixed seed."""
    import autograd
    from autograd._config import state

    autograd.set_default_dtype(np.float32)
    autograd.manual_seed(0)
    state.grad_enabled = True
    state.anomaly = False
    state.scope = ()
    yield
