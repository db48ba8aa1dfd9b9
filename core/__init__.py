"""lintrank: rank static-analysis findings by learned importance."""
from __future__ import annotations

__version__ = "0.1.0"
