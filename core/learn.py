"""Learn a project model from the repository's own history and its team's feedback.

``lintrank learn`` mines the history with :mod:`lintrank.core.mine` (fixed
findings are positives; findings suppressed with ``noqa``/``pylint: disable``
or left alone are negatives), adds the verdicts of ``.lintrank/feedback.jsonl``
(repeated, as explicit decisions weigh more than silence), and fits the same
LightGBM model as ``lintrank train`` (:mod:`lintrank.core.train`).

It is honest about whether that helps: a model fitted on the older part of the
history (by commit time) is compared with the shipped model on the later part
(:mod:`lintrank.core.evaluate`). Only when it ranks the later history better
(higher AUC) is a model fitted on everything written to ``.lintrank/model.onnx``,
which :func:`lintrank.core.pipeline.resolve_model` then prefers to the shipped one.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings

import numpy as np
from lintrank.core import evaluate, feedback, memory
from lintrank.core.cache import Cache
from lintrank.core.dataset import mined_matrix
from lintrank.core.exceptions import LintrankWarning, ModelError, UsageError
from lintrank.core.memory import ProjectMemory
from lintrank.core.onnx_model import RewardModel, load_model
from lintrank.models import project_model_path

FEEDBACK_REPEAT = 5  # one explicit verdict counts like this many mined findings
TEST_FRACTION = 0.25  # the latest quarter of the mined findings (by commit time)
MIN_CLASS = 5  # fewer fixed (or unfixed) later findings make the AUC a coin toss


def project_model(root: str) -> RewardModel | None:
    """The project's learned model, when ``lintrank learn`` wrote a usable one."""
    path = project_model_path(root)
    if not path.is_file():
        return None
    try:
        return load_model(str(path.resolve()))
    except ModelError as exc:
        warnings.warn(LintrankWarning(
            f"{exc}; using the shipped model (run `lintrank learn` again)"), stacklevel=2)
        return None


@dataclasses.dataclass
class Rows:
    """Labelled feature rows with what the split and the metrics need."""

    x: np.ndarray
    y: np.ndarray
    times: np.ndarray
    commits: list[str]

    def __len__(self) -> int:
        return len(self.y)

    def take(self, mask: np.ndarray) -> Rows:
        idx = np.flatnonzero(mask)
        return Rows(self.x[idx], self.y[idx], self.times[idx],
                    [self.commits[i] for i in idx])


@dataclasses.dataclass
class LearnReport:
    """What ``lintrank learn`` found, measured and did."""

    mined: int
    fixed: int
    suppressed: int
    commits: int
    verdicts: int
    cut: float | None = None
    test_rows: int = 0
    test_fixed: int = 0
    shipped: dict[str, float] = dataclasses.field(default_factory=dict)
    project: dict[str, float] = dataclasses.field(default_factory=dict)
    better: bool = False
    reason: str = ""
    written: str | None = None
    seconds: float = 0.0


def mine_rows(top: str, sources: list, max_commits: int | None, since: str | None,
              jobs: int, cache_dir: str) -> tuple[Rows, dict[str, int], ProjectMemory]:
    """The repository's mined findings as rows, outcome counts, and its fix memory.

    Each row's memory columns count the fixes before its own commit (as in training
    data); the returned memory counts every fix mined, for scoring from now on.
    """
    from lintrank.core.mine import MineOptions, mine

    options = MineOptions(repo=top, name=os.path.basename(top), since=since,
                          max_commits=max_commits, jobs=jobs, cache_dir=cache_dir)
    xs, ys, times, commits = [], [], [], []
    paths, tools, codes, kinds = [], [], [], []
    outcomes: dict[str, int] = {}
    for row in mine(options, sources):
        xs.append(row["x"])
        ys.append(int(row["label"]))
        times.append(float(row["time"]))
        commits.append(row["commit"])
        paths.append(row["path"])
        tools.append(row["tool"])
        codes.append(row["code"])
        kinds.append(row["outcome"])
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
    x = mined_matrix(xs, [top] * len(xs), times, paths, tools, codes, kinds)
    return (Rows(x, np.asarray(ys, dtype=np.int8), np.asarray(times), commits), outcomes,
            memory.summarise(paths, tools, codes, kinds))


def save_memory(found: ProjectMemory, root: str, top: str) -> str:
    """Write the memory with paths relative to ``root`` (as findings are) under it."""
    from lintrank.core.history_cache import head_sha

    rebased = ProjectMemory(found.codes, {
        os.path.relpath(os.path.join(top, path), root).replace(os.sep, "/"): n
        for path, n in found.files.items()}, found.total)
    return str(memory.save(rebased, root, head_sha(top)))


def feedback_rows(root: str, top: str, sources: list, cache: Cache | None,
                  timeout: float, known: ProjectMemory | None = None) -> Rows:
    """One row per latest verdict whose finding the analyzers still report.

    ``known``: the project's memory with git-top-relative paths (verdicts are given
    today, so it is the whole mined history's)."""
    from lintrank.core.context import read_source
    from lintrank.core.engine import analyse
    from lintrank.core.features import N_FEATURES
    from lintrank.core.history import repo_history
    from lintrank.core.scorer import feature_matrix

    entries = feedback.latest(feedback.load(root))
    by_file: dict[str, list[feedback.Feedback]] = {}
    for entry in entries:
        rel = os.path.normpath(os.path.relpath(os.path.join(root, entry.path), top))
        if os.path.isfile(os.path.join(top, rel)):
            by_file.setdefault(rel, []).append(entry)
    if not by_file:
        return Rows(np.zeros((0, N_FEATURES), np.float32), np.zeros(0, np.int8),
                    np.zeros(0), [])
    found = analyse(sorted(by_file), top, sources, cache, len(sources), timeout).findings
    matched, labels = [], []
    for rel, group in by_file.items():
        lines = read_source(os.path.join(top, rel)).splitlines()
        in_file = [f for f in found if os.path.normpath(f.path) == rel]
        for entry in group:
            # The entry's path is root-relative; compare within this file only.
            hit = feedback.match(dataclasses.replace(entry, path=rel.replace(os.sep, "/")),
                                 in_file, lines)
            if hit is not None:
                matched.append(hit)
                labels.append(int(entry.useful))
    # Densities count every finding of the file, as when `check` scores it.
    everything = [f for f in found if os.path.normpath(f.path) in by_file]
    x = feature_matrix(everything, top, repo_history(top), memory=known)
    position = {id(f): i for i, f in enumerate(everything)}
    x = x[[position[id(f)] for f in matched]].reshape(-1, N_FEATURES)
    return Rows(x, np.asarray(labels, dtype=np.int8), np.full(len(labels), time.time()),
                ["feedback"] * len(labels))


def _params(n: int) -> dict:
    # The shipped model's leaves need 100 findings; a project has far fewer.
    return {"min_child_samples": max(5, min(100, n // 20)), "n_estimators": 200}


def _fit(rows: Rows, verdicts: Rows):  # type: ignore[no-untyped-def]
    from lintrank.core import train

    x = np.concatenate([rows.x] + [verdicts.x] * FEEDBACK_REPEAT)
    y = np.concatenate([rows.y] + [verdicts.y] * FEEDBACK_REPEAT)
    return train.fit(x, y, _params(len(y)), weights=fit_weights(rows, verdicts))


def fit_weights(rows: Rows, verdicts: Rows) -> np.ndarray:
    """Sample weights of ``rows`` then ``verdicts`` (each FEEDBACK_REPEAT times).

    Mined rows weigh by their commit as in `lintrank train` (a bulk clean-up must not
    outweigh every other change), scaled to a mean of 1 so that a verdict still counts
    like FEEDBACK_REPEAT average mined findings. On six training repositories (flake8,
    400 commits) the project model's later-history AUC rose from 0.664 to 0.718 on
    average, within-commit AUC from 0.758 to 0.807 (models/MODEL_CARD.md).
    """
    from lintrank.core import train

    mined = train.commit_weights(rows.commits)
    if len(mined):
        mined = mined / mined.mean()
    return np.concatenate([mined, np.ones(len(verdicts) * FEEDBACK_REPEAT)])


def learn(root: str, top: str, rows: Rows, outcomes: dict[str, int], verdicts: Rows,
          against: RewardModel, name: str) -> LearnReport:
    """Compare on the later history; write the project model when it is better."""
    from lintrank.core import train

    report = LearnReport(mined=len(rows), fixed=int(rows.y.sum()),
                         suppressed=outcomes.get("suppressed", 0),
                         commits=len(set(rows.commits)), verdicts=len(verdicts))
    if len(rows) < 20:
        report.reason = f"only {len(rows)} findings in the history; too few to learn from"
        return report
    order = np.sort(rows.times)
    report.cut = float(order[int(len(order) * (1 - TEST_FRACTION))])
    older, later = rows.take(rows.times < report.cut), rows.take(rows.times >= report.cut)
    report.test_rows, report.test_fixed = len(later), int(later.y.sum())
    fixed = int(later.y.sum())
    if min(fixed, len(later) - fixed) < MIN_CLASS or len(set(older.y.tolist())) < 2:
        report.reason = (f"the later history needs at least {MIN_CLASS} fixed and "
                         f"{MIN_CLASS} unfixed findings (it has {fixed} and "
                         f"{len(later) - fixed}) to compare the models fairly")
        return report
    # Feedback is given today, after the later history: fitting on it here would
    # leak the future into the comparison, so only the final model sees it.
    early = _fit(older, verdicts.take(np.zeros(len(verdicts), dtype=bool)))
    blob = train.to_onnx(early, name, 0.5)
    report.project = evaluate.metrics(later.y, train.onnx_scores(blob, later.x), later.commits)
    report.shipped = evaluate.metrics(later.y, against.predict(later.x), later.commits)
    report.better = report.project["auc"] > report.shipped["auc"]
    target = project_model_path(root)
    if not report.better:
        report.reason = "the shipped model ranks the later history at least as well"
        if target.is_file():  # an older project model is no longer shown to help
            target.unlink()
            target.with_suffix(".json").unlink(missing_ok=True)
        return report
    final = _fit(rows, verdicts)
    scores = train.predict(final, rows.x)
    # Keep the same share of findings the shipped model keeps, so volume stays familiar.
    keep = float(np.mean(against.predict(rows.x) >= against.default_threshold))
    threshold = train.choose_threshold(scores, min(max(keep, 0.01), 1.0))
    blob = _with_reference(train.to_onnx(final, name, threshold), rows.x)
    train.write_model(blob, str(target), {
        "name": name, "threshold": threshold, "rows": len(rows) + len(verdicts),
        "positives": report.fixed, "feedback": len(verdicts), "against": against.sha256,
        "later_history": {"from": report.cut, "rows": report.test_rows,
                          "project": report.project, "shipped": report.shipped}})
    report.written = str(target)
    return report


def _with_reference(blob: bytes, x: np.ndarray) -> bytes:
    """Store the project's median finding as the model's explanation reference."""
    import json

    import onnx
    from lintrank.core.explain import META_REFERENCE
    from lintrank.core.features import FEATURES

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
        medians = np.nanmedian(x, axis=0)
    reference = {name: round(float(v), 6) for name, v in zip(FEATURES, medians)
                 if not math.isnan(v)}
    proto = onnx.load_from_string(blob)
    proto.metadata_props.add(key=META_REFERENCE, value=json.dumps(reference))
    return proto.SerializeToString()


def check_repo(root: str) -> str:
    """The git work tree holding ``root``; learning needs its history."""
    from lintrank.core.history import git_root

    top = git_root(root)
    if not top:
        raise UsageError(f"{root} is not in a git work tree; `lintrank learn` mines its "
                         "history")
    return top
