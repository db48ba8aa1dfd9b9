"""Fewer garbage collections inside a run, CPython's thresholds back after it."""
from __future__ import annotations

import gc

import pytest

from lintrank.core.collect import YOUNG, fewer_collections


def test_thresholds_raised_inside_and_restored_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(KeyError):
        with fewer_collections():
            assert gc.get_threshold()[0] == YOUNG
            raise KeyError("x")
    assert gc.get_threshold() == before
