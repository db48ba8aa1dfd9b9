"""Shipped reward models and their feature schema (package data)."""
from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL = MODELS_DIR / "default.onnx"
#: Where ``lintrank learn`` writes a project's own model, relative to its root.
PROJECT_MODEL = Path(".lintrank") / "model.onnx"
#: Where ``lintrank learn`` writes the project's past fixes (lintrank.core.memory).
PROJECT_MEMORY = Path(".lintrank") / "memory.json"


def project_model_path(root: str) -> Path:
    """The project model's path under ``root`` (it may not exist)."""
    return Path(root) / PROJECT_MODEL


def project_memory_path(root: str) -> Path:
    """The project memory's path under ``root`` (it may not exist)."""
    return Path(root) / PROJECT_MEMORY
