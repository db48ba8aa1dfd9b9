"""A whole ranking remembered: same findings, files, settings, model and git state.

The flake8 and pylint adapters score inside their host on every invocation. On an
unchanged tree every score is already cached, yet finding that out means importing
numpy and onnxruntime, reading the git history and rebuilding every feature row
(a fifth of a plain flake8 run). The memo keys the *result* of
:func:`lintrank.core.scoring.score_findings` on everything it depends on, so a repeat
is one git call, one hash per file and one cache lookup.

Not memoised (their inputs move without any file changing): diff-aware runs (a ref
moves), explanations (large), and runs with a plugin that adjusts scores or adds
features (its code may depend on anything).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
import os
import subprocess
from collections.abc import Mapping, Sequence

from lintrank.core import __version__
from lintrank.core.cache import Cache
from lintrank.core.config import Settings
from lintrank.core.features import schema_id
from lintrank.core.files import read_regular
from lintrank.core.finding import FIELD_NAMES, Finding, ScoredFinding
from lintrank.core.history import git_root
from lintrank.core.plugin_manager import get_plugin_manager
from lintrank.models import DEFAULT_MODEL, project_memory_path, project_model_path


@dataclasses.dataclass(frozen=True)
class Memo:
    """Where a ranking is kept (one slot per project and settings: only the latest
    ranking is kept, so the cache does not grow with every edit) and its key."""

    slot: str
    key: str
    order: tuple[int, ...] = dataclasses.field(compare=False)  # canonical order of findings
    state: str = dataclasses.field(default="", compare=False)  # :attr:`Basis.state`


@dataclasses.dataclass(frozen=True)
class Basis:
    """The part of a memo key no finding moves (version, settings, model, git state):
    a host can compute it while its checks still run."""

    slot: str
    parts: tuple[str, ...]
    #: A digest of :func:`git_state` (commit and changed files).
    state: str = ""


def memo_basis(settings: Settings, state: str | None = None) -> Basis | None:
    """The :class:`Basis` of ``settings``' memo keys, or None when not memoised.

    ``state``: :func:`git_state`, when the caller has it.
    """
    if not _memoised(settings):
        return None
    settings_text = _settings_text(settings)
    state = git_state(settings) if state is None else state
    return Basis(_slot(settings_text), (
        __version__, schema_id(), settings_text, *_model_files(settings), state,
        # `lintrank learn` rewrites the project memory without touching any file checked.
        _file_digest(str(project_memory_path(settings.root))).decode()
        if settings.history else ""), _state_digest(state))


def memo_key(findings: Sequence[Finding], settings: Settings, basis: Basis | None = None,
             contents: Mapping[str, bytes] | None = None) -> Memo | None:
    """The memo of this scoring call, or None when it must not be memoised.

    ``basis``: :func:`memo_basis`, when the caller has it; ``contents``: the bytes
    of some files with findings, already read, by root-relative path.
    """
    basis = basis or memo_basis(settings)
    if basis is None:
        return None
    contents = contents or {}
    # Hosts may hand the same findings over in another order (pylint -j replays
    # them as its workers finish): the key and the stored places ignore the order.
    # perf: the fields as one tuple in C (to_dict's values, in the same order).
    text = [repr(_fields(f)) for f in findings]
    order = tuple(sorted(range(len(findings)), key=text.__getitem__))
    digest = hashlib.blake2b(digest_size=16)
    for part in (*basis.parts, *(text[i] for i in order)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for path in sorted({f.path for f in findings}):
        digest.update(path.encode("utf-8", "surrogateescape") + b"\0")
        data = contents.get(path)
        digest.update((_file_digest(os.path.join(settings.root, path)) if data is None
                       else _bytes_digest(data)) + b"\0")
    return Memo(basis.slot, digest.hexdigest(), order, basis.state)


_fields = operator.attrgetter(*FIELD_NAMES)


def remembered(cache: Cache | None, settings: Settings) -> tuple[bool, str | None]:
    """Whether a ranking is remembered for ``settings`` in this git state (a warm
    run, most likely), and that state (:func:`git_state`; None, and git not asked,
    when nothing is remembered for these settings).

    Hosts ask before any finding is known, to leave a warm run's imports undone. A
    ranking of another commit or of other edits is no warm run: its key cannot match
    (every pre-commit run follows a new commit), so the host prepares the scoring
    while it checks instead of after; it keeps the state for :func:`memo_basis`.
    """
    stored = stored_state(cache, settings)
    if stored is None:
        return False, None
    state = git_state(settings)
    return made_in(stored, state), state


def made_in(stored: str, state: str) -> bool:
    """Whether :func:`stored_state` ``stored`` is the digest of :func:`git_state` ``state``."""
    return _state_digest(state) == stored


def stored_state(cache: Cache | None, settings: Settings) -> str | None:
    """The git state digest of the ranking remembered for ``settings``, if any (no git
    call: None tells a host that no ranking can be recalled)."""
    if cache is None or not cache.enabled or not _memoised(settings):
        return None
    key = _slot(_settings_text(settings)) + _STATE
    stored = cache.get_derived([key]).get(key)
    return stored if isinstance(stored, str) else None


def recall(cache: Cache | None, memo: Memo | None, findings: Sequence[Finding]
           ) -> list[ScoredFinding] | None:
    """The remembered ranking of ``findings``; None on a miss or a damaged entry."""
    if cache is None or memo is None:
        return None
    entry = cache.get_derived([memo.slot]).get(memo.slot)
    if not isinstance(entry, dict) or entry.get("key") != memo.key:
        return None
    try:
        results = [ScoredFinding(findings[memo.order[i]], float(score), bool(kept),
                                 bool(protected))
                   for i, score, kept, protected in entry["ranking"]]
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return results if len(results) == len(findings) else None


def remember(cache: Cache | None, memo: Memo | None, findings: Sequence[Finding],
             results: Sequence[ScoredFinding]) -> None:
    """Keep a ranking, by its findings' places in the canonical order."""
    if cache is None or memo is None:
        return
    place = {id(findings[i]): rank for rank, i in enumerate(memo.order)}
    cache.put_derived({memo.slot: {"key": memo.key, "ranking": [
        [place[id(r.finding)], r.score, r.kept, r.protected] for r in results]},
        memo.slot + _STATE: memo.state})


#: Derived-table key suffix of the git state a remembered ranking was made in (kept
#: apart from the ranking, which can be megabytes to decode).
_STATE = ":state"


def _memoised(settings: Settings) -> bool:
    if settings.diff or settings.new_only or settings.staged or settings.explains():
        return False
    hook = get_plugin_manager().hook
    return not (hook.lintrank_adjust_score.get_hookimpls()
                or hook.lintrank_extra_features.get_hookimpls())


def _slot(settings_text: str) -> str:
    digest = hashlib.blake2b(settings_text.encode("utf-8", "surrogateescape"), digest_size=16)
    return "ranking:" + digest.hexdigest()


def _settings_text(settings: Settings) -> str:
    return json.dumps(dataclasses.asdict(settings), sort_keys=True, default=str)


def _model_files(settings: Settings) -> list[str]:
    """Digests of every model file (and hash manifest) the run could score with."""
    candidates = [str(project_model_path(settings.root)), str(DEFAULT_MODEL)]
    if settings.model:
        candidates.insert(0, settings.model_path() or "")
    paths = [p for c in candidates for p in (c, os.path.splitext(c)[0] + ".json")]
    return [f"{p}={_file_digest(p).decode()}" for p in paths]


def _file_digest(path: str) -> bytes:
    try:
        return _bytes_digest(read_regular(path))
    except OSError as exc:
        return f"unreadable:{exc.errno}".encode()


def _bytes_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).hexdigest().encode()


def _state_digest(state: str) -> str:
    return _bytes_digest(state.encode("utf-8", "surrogateescape")).decode()


def git_state(settings: Settings) -> str:
    """What of git a memo key depends on: :func:`_git_state` with history features."""
    return _git_state(settings.root) if settings.history else "no history"


def _git_state(root: str) -> str:
    """HEAD and the worktree's changed files: all the git history features read.

    ``--no-optional-locks``: a status that refreshes the index would write to it.
    """
    git = ["git", "--no-optional-locks", "-C", root]
    try:
        out = subprocess.run([*git, "status", "--porcelain=v2", "--branch",
                              "--untracked-files=no", "-z"], capture_output=True,
                             check=True, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        return "no git"
    parts = [out.decode("utf-8", "surrogateescape")]
    # Changed tracked files ("1", "2" renamed, "u" unmerged): their content counts.
    # Porcelain paths are relative to the work tree's top.
    fields = {b"1": 8, b"2": 9, b"u": 10}
    changed = [e.split(b" ", fields[e[:1]])[-1] for e in out.split(b"\0")
               if e[:1] in fields and e[1:2] == b" "]
    top = git_root(root) if changed else None
    if top:
        parts += [_file_digest(os.path.join(top, os.fsdecode(name))).decode()
                  for name in changed]
    return "\n".join(parts)
