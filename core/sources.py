"""The contract between lintrank and an analyzer, and helpers shared by sources."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from typing import Protocol, runtime_checkable

from lintrank.core import processes
from lintrank.core.files import read_regular
from lintrank.core.finding import Finding

#: Files whose content decides how the analyzers behave; hashed into cache keys.
CONFIG_FILES = (
    "setup.cfg", "tox.ini", ".flake8", "pyproject.toml", ".pylintrc", "pylintrc",
    "ruff.toml", ".ruff.toml",
)

#: Set for analyzer subprocesses; lintrank's own flake8/pylint plugins then stand aside.
SOURCE_RUN_ENV = "LINTRANK_SOURCE_RUN"


class AnalyzerCrash(Exception):
    """One analyzer invocation failed; the engine retries on smaller batches."""

    def __init__(self, tool: str, detail: str, timed_out: bool = False,
                 output: str = "") -> None:
        super().__init__(tool, detail, timed_out, output)
        self.tool = tool
        self.detail = detail
        self.timed_out = timed_out
        self.output = output  # what a timed-out analyzer printed before it was stopped

    def __str__(self) -> str:
        return f"{self.tool}: {self.detail}"


@runtime_checkable
class Source(Protocol):
    """An analyzer that turns files into findings.

    Implementations must be picklable (module-level classes) because the engine
    may run them in worker processes or on a Dask cluster.

    Optionally, ``max_batch`` bounds the files of one analyzer process (default
    ``lintrank.core.tasks.MAX_BATCH``): an analyzer that keeps no state across files
    can take bigger batches, paying fewer start-ups.

    Optionally, ``partial(output) -> (findings, finished_files)`` reads the output of
    a run stopped at a deadline (``AnalyzerCrash.output``): budget mode then keeps
    the findings of the files that run finished (only those: a half-analysed file's
    are dropped) instead of losing the whole batch.
    """

    name: str

    def available(self) -> bool:
        """Whether the analyzer can run in this environment."""

    def version(self) -> str:
        """The analyzer's version string, part of every cache key."""

    def config_fingerprint(self, root: str) -> str:
        """A hash of whatever configuration changes this analyzer's findings."""

    def run(self, files: list[str], root: str, timeout: float | None) -> list[Finding]:
        """Analyze ``files`` (relative to ``root``) with the project's own config.

        :raises AnalyzerCrash: when the analyzer fails or exceeds ``timeout``.
        """


class ProjectConfigSource:
    """Base for analyzers whose findings depend on the project's config files.

    Subclasses set ``name`` and implement ``version`` and ``run``.
    """

    name = ""
    #: Whether ``*.ipynb`` files may be passed to ``run`` (the engine checks this).
    notebooks = False

    def available(self) -> bool:
        return True  # flake8 and pylint are hard dependencies of lintrank

    def config_fingerprint(self, root: str) -> str:
        return config_fingerprint(root)


def config_fingerprint(root: str, names: tuple[str, ...] = CONFIG_FILES) -> str:
    """Hash the content of the configuration files present at ``root``."""
    digest = hashlib.sha256()
    for name in names:
        path = os.path.join(root, name)
        try:
            data = read_regular(path)
        except OSError:
            continue
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:16]


def run_module(tool: str, args: list[str], root: str, timeout: float | None,
               extra_env: dict[str, str] | None = None) -> str:
    """Run ``python -m <module> args`` in ``root`` with this interpreter; return stdout.

    Using ``sys.executable`` means the analyzer sees exactly the plugins installed
    next to lintrank, as the user's own ``flake8``/``pylint`` call would.
    """
    return run_command(tool, [sys.executable, "-m", *args], root, timeout,
                       extra_env=extra_env)


def run_command(tool: str, argv: list[str], root: str, timeout: float | None,
                strict: bool = True, extra_env: dict[str, str] | None = None) -> str:
    """Run ``argv`` in ``root``; raise :class:`AnalyzerCrash` on failure or timeout.

    ``strict`` (for analyzers run with ``--exit-zero``): any non-zero exit status is a
    failure. flake8 exits 1 with nothing in its output file when a plugin such as
    pyflakes dies on one file (RecursionError on a 1,000-deep expression); reading
    that as "no findings" would silently drop every file of the batch.
    """
    env = dict(os.environ, PYTHONIOENCODING="utf-8", **{SOURCE_RUN_ENV: "1"},
               **(extra_env or {}))
    try:
        proc = processes.run(argv, root, timeout, env)
    except processes.Stopped as exc:
        raise AnalyzerCrash(tool, "not run: lintrank was interrupted") from exc
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode("utf-8", "replace")
        raise AnalyzerCrash(tool, f"timed out after {timeout:g} s", timed_out=True,
                            output=output) from exc
    except OSError as exc:
        raise AnalyzerCrash(tool, f"could not start: {exc}") from exc
    if proc.returncode < 0:
        raise AnalyzerCrash(tool, f"killed by signal {-proc.returncode}")
    stdout = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0 and (strict or not stdout.strip()):
        raise AnalyzerCrash(tool, _failure_line(proc.returncode, stdout, proc.stderr))
    return stdout


def _failure_line(status: int, stdout: str, stderr: bytes) -> str:
    """The most telling line: a traceback's last line, else the first line printed."""
    err = stderr.decode("utf-8", "replace").strip().splitlines()
    out = stdout.strip().splitlines()
    line = err[-1] if err else out[0] if out else ""
    return f"exit status {status}: {line[:300]}" if line else f"exit status {status}"


def safe_paths(files: list[str]) -> list[str]:
    """Relative paths that no option parser can mistake for an option."""
    return [f"./{f}" if f.startswith("-") else f for f in files]
