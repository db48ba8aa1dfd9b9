"""``lintrank debug``: versions, model and plugins, for bug reports (like flake8's)."""
from __future__ import annotations

import argparse
import json
import platform
from importlib import metadata

from lintrank.core import __version__
from lintrank.core.features import schema_id
from lintrank.core.plugin_manager import get_plugin_manager, plugin_names
from lintrank.models import DEFAULT_MODEL


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("debug", help="print versions, model hash and plugins as JSON")
    p.add_argument("--model", metavar="PATH", help="report on this model instead")
    return p


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def run(args: argparse.Namespace) -> int:
    from lintrank.core.onnx_model import load_model

    pm = get_plugin_manager()
    model = load_model(str(args.model or DEFAULT_MODEL))
    sources = {s.name: {"available": s.available(),
                        "version": s.version() if s.available() else None}
               for part in reversed(pm.hook.lintrank_sources()) for s in part}
    info = {
        "lintrank": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "feature_schema": schema_id(),
        "model": model.info(),
        "analyzers": sources,
        "dependencies": {d: _version(d) for d in
                         ("flake8", "pylint", "ruff", "onnxruntime", "libcst", "pluggy",
                          "rich", "numpy")},
        "plugins": [{"name": n, "distribution": d} for n, d in plugin_names(pm)],
    }
    print(json.dumps(info, indent=2))
    return 0
