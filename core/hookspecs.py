"""Every lintrank hook, in one place.

Plugins implement these with ``@lintrank.core.hookimpl`` and register through the
``lintrank`` entry-point group. Built-in sources and reporters are ordinary
plugins registered first, so a third-party plugin can add to or override them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from lintrank.core.context import FileContext
    from lintrank.core.finding import Finding
    from lintrank.core.reporters.base import Reporter
    from lintrank.core.sources import Source

hookspec = pluggy.HookspecMarker("lintrank")
hookimpl = pluggy.HookimplMarker("lintrank")


@hookspec
def lintrank_sources() -> list[Source]:
    """Return finding sources (analyzers) this plugin provides.

    :return: a list of objects implementing :class:`lintrank.core.sources.Source`
        (``name``, ``available()``, ``version()``, ``config_fingerprint(root)``,
        ``run(files, root, timeout)``). Results of all plugins are concatenated;
        a later source with the same ``name`` replaces an earlier one, so a plugin
        can override a built-in analyzer.
    """


@hookspec
def lintrank_extra_features(finding: Finding, context: FileContext) -> dict[str, float] | None:
    """Return extra named values describing ``finding`` in its file.

    :param finding: the finding being scored.
    :param context: the parsed per-file context (lines, statement kinds, scopes).
    :return: a mapping of feature name to value, or ``None``. Values are passed to
        :func:`lintrank_adjust_score` and shown in explanations; they do not enter
        the ONNX model, whose input schema is fixed and versioned.
    """


@hookspec(firstresult=True)
def lintrank_adjust_score(
    finding: Finding, score: float, extras: dict[str, float]
) -> float | None:
    """Return a replacement score for ``finding``, or ``None`` to keep ``score``.

    Stops at first non-None result.

    :param finding: the finding being scored.
    :param score: the model's score in [0, 1].
    :param extras: merged results of :func:`lintrank_extra_features`.
    :return: the new score (clipped to [0, 1] by the caller) or ``None``.
    """


@hookspec
def lintrank_reporters() -> dict[str, type[Reporter]]:
    """Return output formats this plugin provides, keyed by ``--format`` name.

    :return: a mapping of format name to a :class:`lintrank.core.reporters.base.Reporter`
        subclass. A later plugin's format of the same name replaces an earlier one.
    """


@hookspec
def lintrank_add_findings(files: list[str], root: str) -> list[Finding] | None:
    """Return findings computed directly in-process, without an analyzer subprocess.

    Useful for light checks that do not justify a :func:`lintrank_sources` entry.
    Their findings are scored and filtered like any other.

    :param files: the paths being checked, relative to ``root``.
    :param root: the project root directory.
    :return: a list of findings or ``None``.
    """
