"""Shipped reward models and their feature schema (package data)."""
from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL = MODELS_DIR / "default.onnx"
