"""One BLAS thread for lintrank's numpy, unless the user chose or numpy is loaded."""
from __future__ import annotations

import os
import sys

from lintrank.core.blas import VARIABLE, one_blas_thread


def test_one_blas_thread_only_before_numpy_and_never_over_the_user(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    monkeypatch.delitem(sys.modules, "numpy", raising=False)
    one_blas_thread()
    assert os.environ[VARIABLE] == "1"
    monkeypatch.setenv(VARIABLE, "4")
    one_blas_thread()
    assert os.environ[VARIABLE] == "4"
    monkeypatch.delenv(VARIABLE)
    monkeypatch.setitem(sys.modules, "numpy", object())
    one_blas_thread()
    assert VARIABLE not in os.environ
