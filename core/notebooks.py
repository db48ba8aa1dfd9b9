"""Jupyter notebooks (``*.ipynb``): their code cells as one Python text, cell offsets.

Only ruff analyzes notebooks; it reports rows relative to a cell (its JSON ``cell``
field, 1-based over all cells). lintrank places a notebook finding on the line of
the code cells concatenated in order, the same text :func:`code_text` gives the
feature extractor, so a finding's line and its context agree.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Sequence

from lintrank.core.exceptions import LintrankWarning

SUFFIX = ".ipynb"


def is_notebook(path: str) -> bool:
    """Whether ``path`` names a Jupyter notebook."""
    return path.endswith(SUFFIX)


def _code_cells(data: bytes) -> list[tuple[int, str]]:
    """(index among all cells, source) of each code cell; [] for invalid JSON."""
    try:
        cells = json.loads(data).get("cells", [])
    except (ValueError, AttributeError):  # not JSON, or JSON but not an object
        return []
    found = []
    for index, cell in enumerate(cells if isinstance(cells, list) else []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        found.append((index, str(source)))
    return found


def code_text(data: bytes) -> str:
    """The code cells joined into one text; empty for an unreadable notebook."""
    return "".join(source if source.endswith("\n") else source + "\n"
                   for _, source in _code_cells(data))


def cell_offsets(data: bytes) -> dict[int, int]:
    """Lines before each code cell in :func:`code_text`, keyed by ruff's 1-based cell."""
    offsets, before = {}, 0
    for index, source in _code_cells(data):
        offsets[index + 1] = before
        before += len(source.splitlines()) or 1
    return offsets


class NotebookWarning(LintrankWarning):
    """Notebooks were asked for, but no selected analyzer can read them."""


def analyzable(files: list[str], sources: Sequence[object], requested: bool) -> list[str]:
    """``files`` less the notebooks when no source parses them, with one warning.

    flake8 and pylint read a notebook's JSON as Python; they never get one (see
    :func:`lintrank.core.engine.accepts`), so without ruff notebooks are not checked,
    and saying so beats an empty report that looks clean.
    """
    if any(getattr(source, "notebooks", False) for source in sources):
        return files
    kept = [f for f in files if not is_notebook(f)]
    if requested or len(kept) < len(files):
        warnings.warn(NotebookWarning(
            f"notebooks need ruff: flake8 and pylint cannot analyze *.ipynb, so "
            f"{len(files) - len(kept)} notebook(s) are not checked; add ruff to --tools"),
            stacklevel=2)
    return kept
