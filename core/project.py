"""Project conventions read from the analyzer config files of one revision.

These are the cheap "project-awareness" features: the line length a project
chose, and which codes its configuration names explicitly (selected, ignored,
per-file-ignored). They come from config text at the analysed revision only.
"""
from __future__ import annotations

import configparser
import dataclasses
import re
import subprocess
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Config files at the repository top whose content shapes the analyzers' output.
CONFIG_NAMES = ("setup.cfg", "tox.ini", ".flake8", "pyproject.toml", "ruff.toml",
                ".ruff.toml", ".pylintrc", "pylintrc")
DEFAULT_LINE_LENGTH = 79
_CODE = re.compile(r"\b([A-Z]{1,4}[0-9]{1,4})\b")


@dataclasses.dataclass(frozen=True)
class ProjectFacts:
    """Conventions of one project at one revision."""

    max_line_length: int = DEFAULT_LINE_LENGTH
    codes: frozenset[str] = frozenset()

    def mentions(self, code: str) -> bool:
        """Whether the config names ``code`` or a prefix of it at least 2 chars long."""
        return any(code[:n] in self.codes for n in range(2, len(code) + 1))


def facts_from_texts(texts: dict[str, str]) -> ProjectFacts:
    """Build facts from ``{config file name: content}``; unreadable files are skipped."""
    length: int | None = None
    codes: set[str] = set()
    for name in ("setup.cfg", "tox.ini", ".flake8"):
        if name not in texts:
            continue
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(texts[name])
        except configparser.Error:
            continue
        for section in ("flake8", "pycodestyle", "pep8"):
            if parser.has_section(section):
                items = dict(parser.items(section))
                value = items.get("max-line-length") or items.get("max_line_length")
                if length is None and value and value.strip().isdigit():
                    length = int(value)
                codes.update(_CODE.findall(" ".join(items.values())))
    for name in ("ruff.toml", ".ruff.toml", "pyproject.toml"):
        if name not in texts:
            continue
        try:
            data = tomllib.loads(texts[name])
        except (tomllib.TOMLDecodeError, ValueError):
            continue
        tool = data.get("tool", {}) if name == "pyproject.toml" else {"ruff": data}
        ruff = tool.get("ruff", {}) if isinstance(tool, dict) else {}
        if isinstance(ruff, dict):
            if length is None and isinstance(ruff.get("line-length"), int):
                length = ruff["line-length"]
            codes.update(_CODE.findall(repr(ruff)))
        black = tool.get("black") if isinstance(tool, dict) else None
        if length is None and isinstance(black, dict):
            value = black.get("line-length", 88)
            length = value if isinstance(value, int) else 88
    return ProjectFacts(max_line_length=length or DEFAULT_LINE_LENGTH,
                        codes=frozenset(codes))


def read_config_texts(git_dir: str, rev: str) -> dict[str, str]:
    """Config file contents at ``rev`` (one ``git cat-file --batch`` call)."""
    request = "".join(f"{rev}:{name}\n" for name in CONFIG_NAMES)
    try:
        out = subprocess.run(["git", "-C", git_dir, "cat-file", "--batch"],
                             input=request.encode(), capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    texts: dict[str, str] = {}
    pos = 0
    for name in CONFIG_NAMES:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            texts[name] = out[pos:pos + size].decode("utf-8", "replace")
            pos += size + 1
    return texts


def project_facts(git_dir: str, rev: str = "HEAD") -> ProjectFacts:
    """The facts of the project in ``git_dir`` at ``rev``."""
    return facts_from_texts(read_config_texts(git_dir, rev))
