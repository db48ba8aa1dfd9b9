"""The one exception hierarchy; every class carries a user-facing message."""
from __future__ import annotations


class LintrankWarning(UserWarning):
    """Base class of lintrank's warnings: the run goes on, the user should know why."""


def warning_line(message: Warning | str) -> str:
    """How lintrank shows a warning, in its CLI and in the analyzers' plugins alike."""
    return f"lintrank: warning: {message}"


class LintrankError(Exception):
    """Base class: the CLI prints ``str(exc)`` and exits 2 (traceback with --debug)."""

    exit_code = 2


class ConfigError(LintrankError):
    """Invalid configuration value or unreadable configuration file."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(source, problem)
        self.source = source
        self.problem = problem

    def __str__(self) -> str:
        return f"configuration error in {self.source}: {self.problem}"


class ModelError(LintrankError):
    """The reward model cannot be loaded or does not match this lintrank."""

    def __init__(self, path: str, problem: str, hint: str = "") -> None:
        super().__init__(path, problem, hint)
        self.path = path
        self.problem = problem
        self.hint = hint

    def __str__(self) -> str:
        text = f"cannot use model {self.path}: {self.problem}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class AnalyzerError(LintrankError):
    """An analyzer could not be started at all (missing executable, bad config)."""

    def __init__(self, tool: str, problem: str) -> None:
        super().__init__(tool, problem)
        self.tool = tool
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.tool} failed: {self.problem}"


class UsageError(LintrankError):
    """The command line asks for something impossible (unknown tool, bad path)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem

    def __str__(self) -> str:
        return self.problem
