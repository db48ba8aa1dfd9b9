"""What the flake8 and pylint adapters share: settings for a host run and one scoring call.

Both hosts import their plugins on every run (flake8 even when another formatter is
chosen, and again in each ``--jobs`` worker), so this module imports only the light
configuration code; numpy, onnxruntime and the pipeline load when something is scored.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lintrank.core.config import Settings, apply, find_root, load_file_options
from lintrank.core.sources import SOURCE_RUN_ENV

if TYPE_CHECKING:
    from lintrank.core.cache import Cache
    from lintrank.core.finding import Finding, ScoredFinding


def standing_aside() -> bool:
    """Whether lintrank itself runs this analyzer as a finding source.

    Then the adapter must pass every message through unchanged: ``lintrank check``
    scores the complete set itself, whatever the user's flake8/pylint config says.
    """
    return bool(os.environ.get(SOURCE_RUN_ENV))


def host_settings(paths: Iterable[str], overrides: Mapping[str, Any],
                  source: str) -> Settings:
    """Defaults < ``[tool.lintrank]`` of the project root < the host's own options.

    :raises lintrank.core.exceptions.ConfigError: for an invalid value anywhere.
    """
    root = find_root([str(p) for p in paths] or ["."])
    settings = Settings(root=root)
    options, path = load_file_options(None, root)
    apply(settings, options, path or "pyproject.toml")
    apply(settings, {k: v for k, v in overrides.items() if v is not None}, source)
    return settings


@functools.lru_cache(maxsize=65536)
def relative_path(path: str, root: str) -> str:
    """``path`` as the core keys files: relative to the project root, normalised.

    Cached: a run repeats the same few file names thousands of times.
    """
    if not path:
        return path
    return os.path.normpath(os.path.relpath(os.path.abspath(path), root))


def score(findings: list[Finding], settings: Settings) -> list[ScoredFinding]:
    """Rank ``findings`` through the core's single scoring path (cache, safety floor).

    :raises lintrank.core.exceptions.LintrankError: when the model cannot be used.
    """
    from lintrank.core.cache import open_cache
    from lintrank.core.memo import memo_key, recall, remember

    cache = open_cache(settings)
    try:
        # An unchanged tree's ranking is remembered whole: no numpy, no onnxruntime.
        key = memo_key(findings, settings) if cache and cache.enabled else None
        results = recall(cache, key, findings)
        if results is None:
            results = _score(findings, settings, cache)
            remember(cache, key, findings, results)
        return results
    finally:
        if cache:
            cache.close()


def _score(findings: list[Finding], settings: Settings, cache: Cache | None
           ) -> list[ScoredFinding]:
    from lintrank.core.prepare import Preparer
    from lintrank.core.scoring import score_findings

    preparer = Preparer(settings, cache)
    preparer.start()  # the model loads while git reads the history...
    # ...and this thread parses the files with findings until both are done.
    ready = preparer.finish(bool(findings), sorted({f.path for f in findings}))
    return score_findings(findings, settings, ready.model, cache, history=ready.history,
                          prepared=ready.parsed)
