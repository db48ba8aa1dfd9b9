"""Mine a labelled dataset of findings from a repository's git history.

Walks the first-parent history (oldest first). For every commit C with parent P
and every Python file it changes, the file's version at P and at C are linted
(each unique version once, see :mod:`lintrank.core.lintblobs`), findings are
matched across the change (:mod:`lintrank.core.matching`) and given outcomes
(:mod:`lintrank.core.labels`). A finding keeps its identity while it is matched
from version to version, so each unique finding becomes exactly one row: its
fix if it was ever fixed, else its first suppression, else the first time it
persisted (survived an edit near it, or ``KEPT_COMMITS`` changes to its file).
Features are those of the scorer, computed at P from the past only.
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterator

from lintrank.core.context import FileContext, build_context
from lintrank.core.features import ROW_FEATURES, file_features, row_schema_id
from lintrank.core.finding import Finding
from lintrank.core.gitwalk import BlobReader, Commit, FileChange, changed_files, full_log, mainline
from lintrank.core.history import HistoryStats, Ranges, change_ranges
from lintrank.core.labels import KEPT_COMMITS, LABELLED, lint_intent, outcomes
from lintrank.core.lintblobs import LintCache, Version, config_digest, lint_versions
from lintrank.core.project import facts_from_texts, read_config_texts
from lintrank.core.recency import WINDOW, Change, Marks, apply, log_marks
from lintrank.core.sources import Source

#: Priority of outcomes for a finding's single row (higher replaces lower).
PRIORITY = {"kept": 1, "kept_near": 1, "suppressed": 2, "fixed": 3}


@dataclasses.dataclass
class MineOptions:
    """What to mine and how."""

    repo: str
    name: str
    since: str | None = None
    max_commits: int | None = None
    jobs: int = 1
    cache_dir: str | None = None


@dataclasses.dataclass
class _Plan:
    commit: Commit
    changes: list[FileChange]
    old_config: str
    new_config: str


class _Identity:
    """One unique finding followed across versions; holds its chosen row."""

    __slots__ = ("ident", "kept", "row", "priority")

    def __init__(self, ident: int) -> None:
        self.ident, self.kept, self.row, self.priority = ident, 0, None, 0


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def mine(options: MineOptions, sources: list[Source],
         progress: Callable[[str, int, int], None] | None = None) -> Iterator[dict]:
    """Yield the dataset's rows (dicts) for ``options.repo``."""
    repo = options.repo
    commits = mainline(repo, since=options.since, max_commits=options.max_commits)
    configs: dict[str, dict[str, str]] = {}
    digest_at: dict[str, str] = {}

    def config_at(rev: str) -> str:
        if rev not in digest_at:
            texts = read_config_texts(repo, rev)
            digest_at[rev] = config_digest(texts)
            configs[digest_at[rev]] = texts
        return digest_at[rev]

    plans = []
    for n, commit in enumerate(commits, 1):
        changes = changed_files(repo, commit.parent, commit.sha)
        if changes:
            plans.append(_Plan(commit, changes, config_at(commit.parent), config_at(commit.sha)))
        if progress:
            progress("diff", n, len(commits))
    versions = [v for plan in plans for v in _versions(plan)]
    cache_dir = options.cache_dir or tempfile.gettempdir()
    os.makedirs(cache_dir, exist_ok=True)
    tools = "-".join(sorted(s.name for s in sources))
    cache = LintCache(os.path.join(cache_dir, f"{options.name.replace('/', '+')}.{tools}.jsonl"))
    with BlobReader(repo) as reader:
        lint_versions(versions, configs, reader.read, sources, cache, options.jobs,
                      (lambda d, t: progress("lint", d, t)) if progress else None)
        yield from _label(options, plans, configs, cache, reader, progress)


def _versions(plan: _Plan) -> Iterator[Version]:
    for change in plan.changes:
        if change.status != "A":
            yield Version(change.old_blob, change.old_path, plan.old_config)
        if change.status != "D":
            yield Version(change.new_blob, change.new_path, plan.new_config)


def _label(options: MineOptions, plans: list[_Plan], configs: dict[str, dict[str, str]],
           cache: LintCache, reader: BlobReader,
           progress: Callable[[str, int, int], None] | None) -> Iterator[dict]:
    log = full_log(options.repo, plans[-1].commit.sha) if plans else {}
    stats, seen = HistoryStats(), set()
    state: dict[str, list[_Identity]] = {}  # path -> identities of its current findings
    counter = itertools.count()
    identities: list[_Identity] = []
    by_sha = {plan.commit.sha: plan for plan in plans}
    edits = _edits_before(options.repo, plans, log)

    # perf: parsing dominates labelling; a version's new side is the next change's
    # old side, so each (blob, path) is parsed once while it is current.
    @functools.lru_cache(maxsize=512)
    def context(blob: str, path: str) -> FileContext:
        return build_context(path, _decode(reader.read(blob)) if blob else "")

    for n, plan in enumerate(plans, 1):
        _add_ancestors(plan.commit.parent, log, stats, seen)
        recent = _last_change(options.repo, plan.commit.parent, log, by_sha)
        now = log[plan.commit.parent][1] if plan.commit.parent in log else plan.commit.time
        facts = facts_from_texts(configs[plan.old_config])
        intent = lint_intent(plan.commit.subject)
        for change in plan.changes:
            new_v = Version(change.new_blob, change.new_path, plan.new_config)
            new = cache.get(new_v) if change.status != "D" else []
            if change.status == "A":
                state[change.new_path] = [_new(counter, identities) for _ in new]
                continue
            old_v = Version(change.old_blob, change.old_path, plan.old_config)
            old = cache.get(old_v)
            ids = state.pop(change.old_path, None)
            if ids is None or len(ids) != len(old):
                ids = [_new(counter, identities) for _ in old]
            if not old:
                if change.status != "D":
                    state[change.new_path] = [_new(counter, identities) for _ in new]
                continue
            old_ctx = context(change.old_blob, change.old_path)
            new_ctx = context(change.new_blob if change.status != "D" else "", change.new_path)
            results, pairs = outcomes(old, old_ctx, new, new_ctx, change.hunks,
                                      deleted=change.status == "D", intent=intent)
            rows: list[list[float]] | None = None
            for i, outcome in enumerate(results):
                identity = ids[i]
                if outcome == "kept":
                    identity.kept += 1
                    if identity.kept < KEPT_COMMITS:
                        continue
                if outcome not in LABELLED or PRIORITY[outcome] <= identity.priority:
                    continue
                if rows is None:
                    hist = stats.get(change.old_path, now, facts, recent.get(change.old_path),
                                     edits.get(change.old_path))
                    rows = file_features(old, old_ctx, hist)
                identity.priority = PRIORITY[outcome]
                identity.row = _row(options.name, plan.commit, old[i], outcome, intent,
                                    rows[i])
            if change.status != "D":
                back = {j: i for i, j in pairs.items()}
                state[change.new_path] = [ids[back[j]] if j in back else
                                          _new(counter, identities) for j in range(len(new))]
        apply(edits, map(_change, plan.changes),
              log[plan.commit.sha][1] if plan.commit.sha in log else plan.commit.time)
        if progress:
            progress("label", n, len(plans))
    for identity in identities:
        if identity.row is not None:
            yield identity.row


def _new(counter: Iterator[int], identities: list[_Identity]) -> _Identity:
    identity = _Identity(next(counter))
    identities.append(identity)
    return identity


def _last_change(repo: str, rev: str, log: dict, by_sha: dict[str, _Plan]
                 ) -> dict[str, Ranges]:
    """New-side line ranges per path of commit ``rev`` against its first parent."""
    parents = log.get(rev, ([],))[0]
    if not parents:
        return {}
    plan = by_sha.get(rev)
    changes = plan.changes if plan else changed_files(repo, parents[0], rev)
    # The same reading of a change as a check's (history.recent_change): parity.
    return change_ranges(map(_change, changes))


def _edits_before(repo: str, plans: list[_Plan], log: dict) -> dict[str, Marks]:
    """Per-line edits up to the first mined commit's parent, as a check there sees
    them; the walk then advances them commit by commit (:mod:`lintrank.core.recency`)."""
    first = plans[0].commit.parent if plans else None
    if first not in log:
        return {}
    return log_marks(repo, first, log[first][1] - WINDOW)


def _change(change: FileChange) -> Change:
    return (None if change.status == "A" else change.old_path,
            None if change.status == "D" else change.new_path, change.hunks)


def _add_ancestors(rev: str, log: dict, stats: HistoryStats, seen: set[str]) -> None:
    """Feed every not-yet-seen ancestor of ``rev`` (inclusive) into ``stats``."""
    stack = [rev]
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in log:
            continue
        seen.add(sha)
        parents, when, author, changes = log[sha]
        if len(parents) < 2:  # merges list no files in `git log`, as at check time
            stats.add(when, author, changes)
        stack.extend(parents)


def _row(repo: str, commit: Commit, f: Finding, outcome: str, intent: bool,
         features: list[float]) -> dict:
    return {"repo": repo, "commit": commit.sha, "parent": commit.parent,
            "time": commit.time, "path": f.path, "line": f.line, "tool": f.tool,
            "code": f.code, "severity": f.severity, "outcome": outcome,
            "label": LABELLED[outcome], "lint_intent": intent,
            "x": [None if v != v else round(v, 6) for v in features]}


def write_dataset(rows: Iterator[dict], out: str, meta: dict) -> tuple[int, int]:
    """Write ``rows`` as gzip JSON lines (first line: metadata) atomically."""
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mine-", suffix=".jsonl.gz", dir=folder)
    n = positives = 0
    try:
        with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as handle:
            handle.write(json.dumps({"meta": {**meta, "schema": row_schema_id(),
                                              "features": list(ROW_FEATURES)}}) + "\n")
            for row in rows:
                handle.write(json.dumps(row) + "\n")
                n += 1
                positives += row["label"]
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return n, positives
