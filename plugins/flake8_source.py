"""flake8 as a lintrank finding source (with whatever flake8 plugins are installed)."""
from __future__ import annotations

import ast
import functools
import os
import tempfile

from lintrank.core.finding import Finding
from lintrank.core.hookspecs import hookimpl
from lintrank.core.severity import severity_of
from lintrank.core.sources import (AnalyzerCrash, ProjectConfigSource, run_module,
                                   safe_paths)

_SEP = "\x1f"  # unit separator; reprs below escape it (and newlines) in any field
# Paths and messages as Python string literals: a file named "a\nb.py" or holding
# the separator would otherwise split or shift fields and lose its findings.
_FORMAT = _SEP.join(("%(path)r", "%(row)d", "%(col)d", "%(code)r", "%(text)r"))


class Flake8Source(ProjectConfigSource):
    """Runs ``python -m flake8`` in the project root, so its config files apply."""

    name = "flake8"
    #: Files per batch: flake8 keeps no state across files, so big batches only save
    #: start-ups, and the 200-file default split a 384-file tree into 3 uneven ones.
    max_batch = 1000

    def version(self) -> str:
        return _version()

    def run(self, files: list[str], root: str, timeout: float | None) -> list[Finding]:
        # An output file of our own keeps a user's `output-file`/`tee`/`count`
        # settings from hiding results or mixing into what we parse.
        fd, out = tempfile.mkstemp(prefix="lintrank-flake8-", suffix=".txt")
        os.close(fd)
        try:
            # No "--" separator: flake8's two-pass option parsing mistakes the
            # options before it for file names. safe_paths() guards leading dashes.
            run_module(self.name, ["flake8", f"--format={_FORMAT}", "--jobs=1",
                                   "--no-show-source", f"--output-file={out}",
                                   "--exit-zero", *safe_paths(files)], root, timeout)
            with open(out, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        finally:
            os.unlink(out)
        return parse(text)


def parse(text: str) -> list[Finding]:
    """Parse flake8 output written with lintrank's separator format."""
    findings = []
    for line in text.splitlines():
        parts = line.split(_SEP)
        if len(parts) != 5:
            continue  # --count/--statistics lines or anything a plugin printed
        try:
            path, code, text_ = (_literal(parts[i]) for i in (0, 3, 4))
            row, col = int(parts[1]), int(parts[2])
        except (ValueError, SyntaxError):
            continue
        findings.append(Finding(
            tool="flake8", code=code, message=text_, path=os.path.normpath(path),
            line=row, column=max(col - 1, 0),
            severity=severity_of("flake8", code), category=code.rstrip("0123456789"),
        ))
    if not findings and "Traceback" in text:
        raise AnalyzerCrash("flake8", text.strip().splitlines()[-1])
    return findings


def _literal(field: str) -> str:
    """A string literal written by ``%r`` (literal_eval only ever builds literals)."""
    if len(field) > 1 and field[0] == field[-1] in "'\"" and "\\" not in field:
        # perf: no escapes, so the text between the quotes is the value (literal_eval
        # of every field was a tenth of lintrank's own cost on a cold run).
        return field[1:-1]
    value = ast.literal_eval(field)
    if not isinstance(value, str):
        raise ValueError(field)
    return value


@functools.lru_cache(maxsize=1)
def _version() -> str:
    """flake8's version plus every installed flake8 plugin distribution's version."""
    from importlib import metadata

    parts = {f"flake8:{metadata.version('flake8')}"}
    for dist in metadata.distributions():
        groups = {ep.group for ep in dist.entry_points}
        if groups & {"flake8.extension", "flake8.report"}:
            parts.add(f"{dist.metadata['Name']}:{dist.version}")
    return " ".join(sorted(parts))


SOURCE = Flake8Source()


@hookimpl
def lintrank_sources() -> list[Flake8Source]:
    return [SOURCE]
