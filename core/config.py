"""Settings: built-in defaults < ``[tool.lintrank]`` (or --config) < command line."""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from lintrank.core.exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Findings with these codes are never filtered (syntax errors, undefined names,
#: unreadable files, analyzer failures), whatever the score, threshold or top-N.
DEFAULT_SAFETY_CODES = (
    "E999", "E902", "F821", "F822", "F823", "invalid-syntax",
    "LR901", "LR902", "LR903", "LR904",
)
#: pylint categories that are never filtered.
DEFAULT_SAFETY_SEVERITIES = ("fatal", "error")
ALL_TOOLS = ("flake8", "pylint", "ruff")
PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", "tox.ini", ".flake8", ".pylintrc",
                   "ruff.toml", ".git")


@dataclasses.dataclass
class Settings:
    """Everything a run needs to know; one instance per run, never mutated globally."""

    root: str = "."
    paths: list[str] = dataclasses.field(default_factory=lambda: ["."])
    tools: list[str] = dataclasses.field(default_factory=lambda: ["flake8", "pylint"])
    threshold: float | None = None  # None: the model's recommended threshold
    top: int | None = None
    format: str = "text"
    jobs: int = 0  # 0: CPU count
    cache: bool = True
    cache_dir: str | None = None
    model: str | None = None
    exclude: list[str] = dataclasses.field(default_factory=list)
    extend_exclude: list[str] = dataclasses.field(default_factory=list)
    safety_codes: list[str] = dataclasses.field(default_factory=lambda: list(DEFAULT_SAFETY_CODES))
    extend_safety_codes: list[str] = dataclasses.field(default_factory=list)
    safety_severities: list[str] = dataclasses.field(
        default_factory=lambda: list(DEFAULT_SAFETY_SEVERITIES))
    timeout: float = 120.0  # seconds per file per analyzer; a hit is an LR903 finding
    model_fallback: bool = False  # unusable model: score with the baseline, saying so
    model_sha256: str | None = None  # pin: the model must have exactly this sha256
    history: bool = True
    quiet: bool = False
    output: str | None = None
    # engine (issue 5): critical paths, budget mode, executors
    critical: list[str] = dataclasses.field(default_factory=list)  # globs from root
    critical_threshold: float = 0.05  # stricter (lower) keep threshold on critical paths
    budget: str | None = None  # "SECONDS" or "P%" of the estimated full analysis cost
    executor: str = "local"  # local (processes on this machine) or dask
    scheduler: str | None = None  # dask scheduler address; none starts a LocalCluster
    dask_workers: int = 0  # LocalCluster workers; 0: the effective --jobs
    # user feedback (issue 6): explanations, team priorities, diff-aware runs
    explain: bool | None = None  # None: on for json/sarif (and the LSP), off for text
    priorities: dict[str, float] = dataclasses.field(default_factory=dict)
    diff: str | None = None  # keep only findings on lines changed since this git ref
    new_only: bool = False  # keep only findings on lines changed since HEAD
    staged: bool = False  # pre-commit: only staged lines, or everything when none are
    notebooks: bool = False  # also discover *.ipynb (analyzed by ruff only)

    def model_path(self) -> str | None:
        """The configured ``model`` file, absolute: as given when it exists from the
        working folder, else relative to the project root; None when not set."""
        if not self.model:
            return None
        path = self.model
        if not os.path.isabs(path) and not os.path.exists(path):
            path = os.path.join(self.root, path)
        return os.path.abspath(path)

    def explains(self) -> bool:
        """Explanations are on by default where they are machine-read (JSON, SARIF)."""
        return self.explain if self.explain is not None else \
            self.format in ("json", "sarif")

    def effective_jobs(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    def protected_codes(self) -> frozenset[str]:
        return frozenset(self.safety_codes) | frozenset(self.extend_safety_codes)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def find_root(paths: list[str]) -> str:
    """The nearest ancestor of the first path holding a project marker, else cwd."""
    start = Path(paths[0] if paths else ".").resolve()
    start = start if start.is_dir() else start.parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            return str(folder)
    return os.getcwd()


def load_file_options(config_file: str | None, root: str) -> tuple[dict[str, Any], str]:
    """Read ``[tool.lintrank]`` from ``config_file`` or the root's pyproject.toml."""
    path = Path(config_file) if config_file else Path(root) / "pyproject.toml"
    if not path.is_file():
        if config_file:
            raise ConfigError(str(path), "file not found")
        return {}, ""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), str(exc)) from exc
    section = data.get("tool", {}).get("lintrank", data.get("lintrank", {}))
    if not isinstance(section, dict):
        raise ConfigError(str(path), "[tool.lintrank] must be a table")
    return section, str(path)


def apply(settings: Settings, options: dict[str, Any], source: str) -> Settings:
    """Overlay validated ``options`` (file keys use - or _) onto ``settings``."""
    for raw_key, value in options.items():
        key = raw_key.replace("-", "_")
        field = _FIELDS.get(key)
        if field is None or key in ("root", "paths"):
            if source.endswith(".toml") and key in _EXTENSION_KEYS:
                continue  # keys owned by other lintrank features
            raise ConfigError(source, f"unknown option {raw_key!r}")
        value = _coerce(key, value, source)
        if key in _PATH_KEYS and value and source.endswith(".toml"):
            value = _project_path(settings.root, value, key, source)
        setattr(settings, key, value)
    if settings.timeout <= 0:
        raise ConfigError(source, f"timeout must be positive, not {settings.timeout:g}")
    if settings.threshold is not None and not 0.0 <= settings.threshold <= 1.0:
        raise ConfigError(source, f"threshold must be within 0..1, not {settings.threshold}")
    if settings.top is not None and settings.top < 0:
        raise ConfigError(source, f"top must be >= 0, not {settings.top}")
    _check_engine(settings, source)
    return settings


#: Path options; relative values from a config file are resolved inside the project.
_PATH_KEYS = frozenset({"model", "cache_dir", "output"})


def _project_path(root: str, value: str, key: str, source: str) -> str:
    from lintrank.core.files import inside_project

    try:
        # A report written where a repository's config says could clobber any file.
        return inside_project(root, value, absolute_ok=key != "output")
    except ValueError as exc:
        raise ConfigError(source, f"{key}: {exc}") from exc


#: Keys of [tool.lintrank] read by other parts of lintrank (engine, feedback).
_EXTENSION_KEYS: frozenset[str] = frozenset()


def _check_engine(settings: Settings, source: str) -> None:
    """Validate the engine options (budget, executor, critical threshold)."""
    if settings.executor not in ("local", "dask"):
        raise ConfigError(source, f"executor must be local or dask, not {settings.executor!r}")
    if not 0.0 <= settings.critical_threshold <= 1.0:
        raise ConfigError(source, "critical_threshold must be within 0..1, not "
                                  f"{settings.critical_threshold}")
    if settings.budget is not None:
        from lintrank.core.budget import parse_budget  # the budget syntax lives there

        try:
            parse_budget(settings.budget)
        except ValueError as exc:
            raise ConfigError(source, str(exc)) from exc


def _coerce(key: str, value: Any, source: str) -> Any:
    default = _FIELDS[key].default
    try:
        if key == "tools" and isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        if key in ("exclude", "extend_exclude", "safety_codes", "extend_safety_codes",
                   "safety_severities", "tools", "critical"):
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list):
                raise TypeError
            return [str(v) for v in value]
        if key in ("threshold", "timeout", "critical_threshold"):
            return None if value is None else float(value)
        if key == "priorities":
            from lintrank.core.priorities import validate  # the weights' rules live there

            return validate(value, source)
        if key == "explain" and value is not None:
            return value.strip().lower() in ("1", "true", "yes", "on") \
                if isinstance(value, str) else bool(value)
        if key in ("top", "jobs", "dask_workers"):
            return None if value is None else int(value)
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        return value if value is None else str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(source, f"invalid value {value!r} for {key!r}") from exc
