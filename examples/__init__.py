"""Runnable examples: `python -m examples.<name>` from the repository root.

The examples multiply small matrices, where BLAS threads cost more than they save (and, on a
machine whose cores are busy, OpenBLAS's spinning threads can slow a run tenfold), so they run
BLAS single-threaded unless you set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS yourself. This only
takes effect because this package is imported before numpy.
"""

import os
import sys

if "numpy" not in sys.modules and "OMP_NUM_THREADS" not in os.environ:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
