"""Benchmarks: this project against hand-written numpy, PyTorch and micrograd, side by side.

Run every workload with ``python -m benchmarks.run`` (``--quick`` for the smoke sizes CI uses).

- harness.py         interleaved timing, numerical cross-checks, the table, machine facts
- mlp.py             an SGD step of a ReLU MLP (784-256-256-10 and 784-16-16-10)
- ops.py             the engine's overhead per elementwise op on tiny tensors
- deep.py            100k- and 1M-op chains: time, peak memory, memory freed on drop
- cnn.py             a LeNet-5-like CNN step against a good numpy im2col
- micrograd_demo.py  micrograd's two-moons demo, per step
- memory.py          peak RSS and growth over 200 big-MLP steps, one fresh process each
- run.py             the command line: runs the workloads, prints and writes the table
"""

import os as _os

# The implementations take turns inside one process, so a library's idle worker threads must not
# keep spinning on a core after their work is done: OpenBLAS (numpy's BLAS) spins for about
# 0.1 s after each call by default, and OpenMP (PyTorch's threads) for milliseconds, eating the
# cores of whichever implementation runs next. These make idle threads sleep at once. They take
# effect only when set before numpy or torch is first imported (as `python -m benchmarks.run`
# does); a value already in the environment is kept. Child processes inherit them.
THREAD_ENV = {"OPENBLAS_THREAD_TIMEOUT": "4", "OMP_WAIT_POLICY": "PASSIVE"}
for _key, _value in THREAD_ENV.items():
    _os.environ.setdefault(_key, _value)
