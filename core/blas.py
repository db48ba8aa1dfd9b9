"""One BLAS thread for lintrank's numpy: its matrices are small, the analyzers' CPU is not.

numpy's OpenBLAS starts a thread per core when numpy is first imported, and they
spin a while waiting for work: importing numpy took 0.17 s of CPU instead of 0.05 s
(measured on 2 cores), and that CPU is taken from the analyzer processes running
beside lintrank (flake8's workers under ``--format=lintrank``, the analyzers of a
``lintrank check``). lintrank multiplies nothing big (feature rows; the model runs
in onnxruntime with one thread), so one BLAS thread loses nothing. The entry points
call :func:`one_blas_thread` before numpy is imported; a user's own
``OPENBLAS_NUM_THREADS`` wins, and training (LightGBM) is left alone.
"""
from __future__ import annotations

import os
import sys

VARIABLE = "OPENBLAS_NUM_THREADS"


def one_blas_thread() -> None:
    """Ask for one OpenBLAS thread, unless numpy is loaded or the user chose a number.

    The variable stays set for this process's children: analyzers rarely load numpy,
    and one BLAS thread does them no harm either.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault(VARIABLE, "1")
