"""Build the plugin manager: built-in plugins first, then entry points."""
from __future__ import annotations

import functools
import importlib

import pluggy

from lintrank.core import hookspecs

ENTRY_POINT_GROUP = "lintrank"

#: Built-in behaviour, registered like any plugin so entry points can override it.
DEFAULT_PLUGINS = (
    "lintrank.plugins.flake8_source",
    "lintrank.plugins.pylint_source",
    "lintrank.plugins.ruff_source",
    "lintrank.core.reporters.builtin",
    "lintrank.core.encoding",
)


@functools.lru_cache(maxsize=1)
def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager (created on first call)."""
    pm = pluggy.PluginManager("lintrank")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    # A misspelled hook implementation fails here, not silently never runs.
    pm.check_pending()
    return pm


def plugin_names(pm: pluggy.PluginManager) -> list[tuple[str, str]]:
    """List (plugin name, distribution version or 'builtin') for `lintrank debug`."""
    dists = {id(plugin): f"{dist.project_name} {dist.version}"
             for plugin, dist in pm.list_plugin_distinfo()}
    return [(name or "?", dists.get(id(plugin), "builtin"))
            for name, plugin in pm.list_name_plugin()]
