"""pylint as a lintrank finding source."""
from __future__ import annotations

import functools
import json
import os

from lintrank.core.finding import Finding
from lintrank.core.hookspecs import hookimpl
from lintrank.core.severity import severity_of
from lintrank.core.sources import AnalyzerCrash, ProjectConfigSource, run_module


class PylintSource(ProjectConfigSource):
    """Runs ``python -m pylint`` in the project root with its own configuration."""

    name = "pylint"

    def version(self) -> str:
        return _version()

    def run(self, files: list[str], root: str, timeout: float | None) -> list[Finding]:
        # Only output-shaping options are forced; checks and their settings come
        # from the project's pylintrc/pyproject exactly as `pylint` would read them.
        # run_command sets LINTRANK_SOURCE_RUN, so a `load-plugins=lintrank...`
        # in the user's config does not filter what this source must see in full.
        # Findings stream file by file (see pylint_stream): a run stopped at a
        # deadline still yields its finished files (``partial``).
        # pylint_run is `python -m pylint` without its exit teardown and with rarer
        # garbage collections (the same output, a third to a half less time).
        args = [RUNNER, f"--load-plugins={STREAM}", "--output-format=lintrank-stream",
                "--exit-zero", "--reports=n", "--score=n", "--persistent=n", "--jobs=1",
                "--", *files]
        stdout = run_module(self.name, args, root, timeout,
                            extra_env={"PYTHONPATH": _import_path(root)})
        findings, _, ended = parse(stdout)
        if not ended:
            tail = stdout.strip().splitlines()[-1:] or ["no output"]
            raise AnalyzerCrash("pylint", f"unreadable output: {tail[0][:200]}")
        return findings

    def partial(self, output: str) -> tuple[list[Finding], set[str]]:
        """A stopped run's findings and the files it finished (the engine keeps
        only those files' findings)."""
        findings, done, _ = parse(output)
        return findings, done


def _import_path(root: str) -> str:
    """PYTHONPATH giving every batch the import roots one pylint run would have.

    pylint puts the import root of each file it is given on ``sys.path``; a batch
    holding only ``tests/`` would not see ``src/`` and report false import errors
    (protected ones) for the project's own packages. The project root and the
    ``src/`` folders of the root and its sub-projects stand in for the whole run.
    """
    roots = [root] if _has_package(root) else []
    for folder in (root, *_subdirs(root)):
        src = os.path.join(folder, "src")
        if os.path.isdir(src):
            roots.append(src)
    current = os.environ.get("PYTHONPATH")
    return os.pathsep.join([*roots, *([current] if current else [])])


def _subdirs(root: str) -> list[str]:
    try:
        return [e.path for e in os.scandir(root)
                if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    except OSError:
        return []


def _has_package(folder: str) -> bool:
    return any(os.path.isfile(os.path.join(d, "__init__.py")) for d in _subdirs(folder))


def parse(stdout: str) -> tuple[list[Finding], set[str], bool]:
    """Parse the ``lintrank-stream`` output: findings, finished files, whole run or not.

    Anything unreadable (a line cut by a kill, a plugin printing to stdout) is
    skipped: a whole run is recognised by its ``end`` line, not by its absence.
    """
    messages, done, ended = [], set(), False
    for line in stdout.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        if "done" in item:
            done.add(os.path.normpath(str(item["done"])))
        elif item.get("end") is True:
            ended = True
        elif "messageId" in item and "path" in item:
            messages.append(item)
    findings = []
    for msg in messages:
        code = msg["messageId"]
        findings.append(Finding(
            tool="pylint", code=code, symbol=msg.get("symbol", ""),
            message=msg.get("message", ""), path=os.path.normpath(msg["path"]),
            line=int(msg.get("line") or 1), column=int(msg.get("column") or 0),
            end_line=msg.get("endLine"), end_column=msg.get("endColumn"),
            severity=severity_of("pylint", code), category=msg.get("type", ""),
        ))
    return findings, done, ended


@functools.lru_cache(maxsize=1)
def _version() -> str:
    from importlib import metadata

    return f"pylint:{metadata.version('pylint')} astroid:{metadata.version('astroid')}"


STREAM = "lintrank.plugins.pylint_stream"
RUNNER = "lintrank.plugins.pylint_run"
SOURCE = PylintSource()


@hookimpl
def lintrank_sources() -> list[PylintSource]:
    return [SOURCE]
