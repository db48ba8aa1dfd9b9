"""What the flake8 and pylint adapters share: settings for a host run and one scoring call.

Both hosts import their plugins on every run (flake8 even when another formatter is
chosen, and again in each ``--jobs`` worker), so this module imports only the light
configuration code; numpy, onnxruntime and the pipeline load when something is scored.
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lintrank.core.blas import one_blas_thread
from lintrank.core.config import Settings, apply, find_root, load_file_options
from lintrank.core.sources import SOURCE_RUN_ENV

if TYPE_CHECKING:
    from lintrank.core.cache import Cache
    from lintrank.core.finding import Finding, ScoredFinding
    from lintrank.core.prepare import Preparer
    from lintrank.core.scorer import Parsed


def show_warnings_as_lintrank() -> None:
    """Print lintrank's warnings in the host as ``lintrank: warning: ...`` lines, as
    the CLI does (Python's default format names a source file and repeats its line);
    every other warning keeps the host's display. Installed once per process."""
    from lintrank.core.exceptions import LintrankWarning, warning_line

    shown = warnings.showwarning
    if getattr(shown, "lintrank", False):
        return

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if issubclass(category, LintrankWarning):
            print(warning_line(message), file=file or sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    show.lintrank = True  # type: ignore[attr-defined]
    warnings.showwarning = show


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
    return HostScoring(settings).score(findings)


class HostScoring:
    """One host run's scoring, whose preparation may start while the host still checks.

    :meth:`prepare` starts loading the model and reading the git history on threads;
    :meth:`score` (or :meth:`close`, when nothing is to be scored) ends the run.
    """

    def __init__(self, settings: Settings) -> None:
        show_warnings_as_lintrank()
        self.settings = settings
        self._cache: Cache | None = None
        self._opened = False
        self._preparer: Preparer | None = None
        self._remembered: bool | None = None
        self._state: str | None = None  # memo.git_state, read once per run
        self._basis: _Deferred | None = None

    def remembered(self) -> bool:
        """Whether a ranking is remembered for these settings: most likely a warm run,
        recalled without numpy, so nothing is worth preparing ahead."""
        if self._remembered is None:
            from lintrank.core.memo import remembered

            self._remembered = False  # a failure is not asked again before the checks
            self._remembered, self._state = remembered(self._open(), self.settings)
        return self._remembered

    def prepare(self) -> None:
        """Start preparing on threads now: the memo's git state always, and unless
        :meth:`remembered`, the model and the git history.

        Threads: call it only where the host forks no more processes. A failure
        here only leaves the work to :meth:`score`, which reports it.
        """
        if self._basis is not None or self._preparer is not None:
            return
        try:
            from lintrank.core.memo import memo_basis

            one_blas_thread()  # perf: numpy loads beside the host's checks
            warm = self.remembered()  # first: it builds the plugin manager, here
            # Runs git status unless remembered() did.
            self._basis = _Deferred(memo_basis, self.settings, self._state)
            if not warm:
                from lintrank.core.prepare import Preparer

                preparer = Preparer(self.settings, self._open())
                preparer.start()
                self._preparer = preparer
        except Exception:  # noqa: BLE001 - the host's checks must go on regardless
            self._preparer = None

    def score(self, findings: list[Finding], parsed: dict[str, Parsed] | None = None
              ) -> list[ScoredFinding]:
        """Rank ``findings``; the run's preparation and cache end here.

        ``parsed``: files the host already read and parsed, by root-relative path.

        :raises lintrank.core.exceptions.LintrankError: when the model cannot be used.
        """
        from lintrank.core.memo import memo_basis, memo_key, recall, remember

        try:
            cache = self._open()
            parsed = parsed or {}
            # A serial host never called prepare(): the state remembered() read serves.
            basis = self._basis.result() if self._basis is not None else \
                memo_basis(self.settings, self._state) if self._state is not None else None
            # An unchanged tree's ranking is remembered whole: no numpy, no onnxruntime.
            key = memo_key(findings, self.settings, basis,
                           {path: data for path, (data, _) in parsed.items()}) \
                if cache and cache.enabled else None
            results = recall(cache, key, findings)
            if results is None:
                results = self._score(findings, cache, parsed)
                remember(cache, key, findings, results)
            return results
        finally:
            self.close()

    def close(self) -> None:
        """Wait for unfinished preparation and close the cache (idempotent)."""
        preparer, self._preparer = self._preparer, None
        if preparer is not None:
            preparer.abandon()
        if self._basis is not None:
            self._basis.result()  # no thread outlives the run
            self._basis = None
        if self._cache is not None:
            self._cache.close()
        self._cache = None

    def _open(self) -> Cache | None:
        if not self._opened:
            from lintrank.core.cache import open_cache

            self._cache, self._opened = open_cache(self.settings), True
        return self._cache

    def _score(self, findings: list[Finding], cache: Cache | None,
               parsed: dict[str, Parsed]) -> list[ScoredFinding]:
        from lintrank.core.prepare import Preparer
        from lintrank.core.scoring import score_findings

        preparer = self._preparer
        if preparer is None:
            one_blas_thread()
            preparer = self._preparer = Preparer(self.settings, cache)
            preparer.start()  # the model loads while git reads the history...
        # ...and this thread parses the other files with findings until both are done.
        preparer.parsed.update(parsed)
        ready = preparer.finish(bool(findings), sorted({f.path for f in findings}))
        self._preparer = None
        return score_findings(findings, self.settings, ready.model, cache,
                              history=ready.history, prepared=ready.parsed)


class _Deferred:
    """A call run on a thread of its own; :meth:`result` is None where it failed."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self._value: Any = None
        self._thread = threading.Thread(target=self._run, args=(func, *args),
                                        name="lintrank-deferred", daemon=True)
        self._thread.start()

    def _run(self, func: Callable[..., Any], *args: Any) -> None:
        try:
            self._value = func(*args)
        except Exception:  # noqa: BLE001 - the caller computes it again itself
            self._value = None

    def result(self) -> Any:
        self._thread.join()
        return self._value
