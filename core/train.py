"""Fit the reward model (LightGBM) and export it to ONNX with lintrank's metadata.

Needs the ``lintrank[train]`` extra (lightgbm, onnxmltools, onnx).
"""
from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lintrank.core.composite import EPS, compose, shift
from lintrank.core.exceptions import UsageError
from lintrank.core.files import atomic_write
from lintrank.core.features import INDEX, N_FEATURES, N_ROW_FEATURES, TOOLS, schema_id
from lintrank.core.onnx_model import (
    META_KIND,
    META_NAME,
    META_SCHEMA,
    META_THRESHOLD,
    accepted_hashes,
    file_sha256,
)

#: Deliberately small, regularised trees: the model must generalise to unseen
#: repositories, and it is served in the hot path. Chosen by leave-one-repository-out
#: runs of benchmarks/ranking.py (7-leaf trees beat 15 and 31 leaves on unseen repos;
#: extremely randomised splits with 600 trees and 20-finding leaves beat best splits
#: with 400 or 800 trees over three seeds, see models/MODEL_CARD.md).
PARAMS: dict[str, Any] = {
    "n_estimators": 600, "learning_rate": 0.03, "num_leaves": 7, "min_child_samples": 20,
    "extra_trees": True, "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8,
    "reg_lambda": 5.0, "random_state": 0, "deterministic": True, "force_row_wise": True,
    "n_jobs": 1, "verbose": -1,
}
PARITY_TOLERANCE = 1e-5
#: Features `lintrank train` leaves out by default (``--ignore-features``): their
#: column is blanked (missing) before fitting, so no tree splits on them; the schema
#: and the scorer are unchanged. A file's age (how old the project is) and the
#: configured line length (one value per project) mostly tell repositories apart, not
#: findings within one; leave-one-repository-out runs without them were better on mean
#: AUC and within-commit AUC over three seeds (models/MODEL_CARD.md). ``line_excess``
#: keeps what the line length says about a finding.
IGNORED_FEATURES: tuple[str, ...] = ("file_age_days", "max_line_length")
#: Share of training rows whose project-memory columns are blanked before fitting.
#: A checked project has a memory only after `lintrank learn`; the trees must rank
#: well in both regimes, and a random half teaches them what "missing" looks like.
MEMORY_MASK = 0.5
#: Each row weighs 1 / (rows of its labelling commit) ** COMMIT_WEIGHT in the fit. A
#: few clean-up commits fix hundreds of findings each and would otherwise teach the
#: trees mostly which codes get cleaned up in bulk; users rank the findings of one
#: change, so each change should count. 0.5 raised the mean within-commit AUC of
#: leave-one-repository-out runs by about 0.009 over three seeds, AUC unchanged
#: (models/MODEL_CARD.md); 0 weighs every row equally.
COMMIT_WEIGHT = 0.5


def _require() -> tuple[Any, Any]:
    try:
        import lightgbm
        import onnxmltools
    except ImportError as exc:
        raise UsageError(f"training needs the train extra ({exc.name} is missing): "
                         "pip install 'lintrank[train]'") from exc
    return lightgbm, onnxmltools


def fit(x: np.ndarray, y: np.ndarray, params: dict[str, Any] | None = None,
        ignore: tuple[str, ...] | list[str] = (), memory_mask: float = MEMORY_MASK,
        weights: np.ndarray | None = None) -> Any:
    """Fit a binary LightGBM classifier; returns the fitted ``LGBMClassifier``.

    ``ignore`` names features the trees must not use (`lintrank train` passes
    ``IGNORED_FEATURES`` unless told otherwise); ``memory_mask`` is the share of rows
    fitted without their project-memory columns; ``weights`` are per-row sample
    weights (:func:`commit_weights`), ``None`` for equal weights.
    """
    lightgbm, _ = _require()
    if len(set(y.tolist())) < 2:
        raise UsageError("the training data needs both fixed and persisting findings")
    merged = {**PARAMS, **(params or {})}
    model = lightgbm.LGBMClassifier(**merged)
    model.fit(mask_memory(blank(x, ignore), memory_mask, merged.get("random_state", 0)), y,
              sample_weight=weights)
    return model


def commit_weights(commits: Sequence[str], power: float = COMMIT_WEIGHT) -> np.ndarray:
    """Per-row weight ``1 / n ** power``, ``n`` the rows sharing the row's commit."""
    if not 0 <= power < float("inf"):  # also rejects NaN
        raise UsageError(f"the commit weight power must be a non-negative number, not {power}")
    size = Counter(commits)
    return np.asarray([size[c] for c in commits], dtype=np.float64) ** -power


def mask_memory(x: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """``x`` with the memory columns of a random ``share`` of rows missing (seeded)."""
    if share <= 0:
        return x
    x = np.array(x, dtype=np.float32, copy=True)
    chosen = np.random.default_rng(seed).random(len(x)) < share
    x[np.ix_(chosen, np.arange(N_ROW_FEATURES, x.shape[1]))] = np.nan
    return x


def ignored_features(option: str | None) -> tuple[str, ...]:
    """The ``--ignore-features`` list: ``None`` is the default, ``""`` ignores none."""
    if option is None:
        return IGNORED_FEATURES
    return tuple(n.strip() for n in option.split(",") if n.strip())


def blank(x: np.ndarray, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """A copy of ``x`` with the named feature columns missing (NaN)."""
    unknown = [n for n in names if n not in INDEX]
    if unknown:
        raise UsageError(f"unknown feature(s): {', '.join(unknown)}")
    if not names:
        return x
    x = np.array(x, dtype=np.float32, copy=True)
    x[:, [INDEX[n] for n in names]] = np.nan
    return x


@dataclasses.dataclass
class PerTool:
    """Classifiers per analyzer: ``separate[tool]`` scores that tool's findings (by
    their ``tool`` feature), ``shared`` every other finding (see
    :mod:`lintrank.core.composite`)."""

    shared: Any
    separate: dict[str, Any]
    #: Per separate tool, added to the logit of its scores (see :meth:`align`).
    offsets: dict[str, float] = dataclasses.field(default_factory=dict)

    def align(self, x: np.ndarray, keep: float, threshold: float | None = None) -> float:
        """The default threshold, and each separate tool's logit offset.

        The threshold keeps the top ``keep`` of the shared part's rows (``threshold``
        when given); each separate tool's scores are shifted in logit space so that
        it keeps the top ``keep`` of that tool's rows too. A monotone shift leaves
        the order within a tool as fitted, and equals a change of that tool's base
        rate: its findings were fixed far less often in the training repositories,
        which mostly do not run it (pylint 2.5%, flake8/ruff 11%), whereas a team
        that runs an analyzer triages its findings. Without it, pylint's top 10%
        would score below flake8's and ruff's top 10%, and the default threshold
        would keep 0.2% of pylint's findings.
        """
        own, rest = self.masks(x)
        if threshold is None:
            threshold = choose_threshold(predict(self.shared, x[rest]) if rest.any()
                                         else np.zeros(0), keep)
        for tool, mask in own.items():
            if mask.any():
                raw = predict(self.separate[tool], x[mask])
                self.offsets[tool] = _logit(threshold) - _logit(float(np.quantile(raw, 1 - keep)))
        return threshold

    def masks(self, x: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Rows of each separate tool, and the rest."""
        return tool_masks(x, self.separate)


def tool_masks(x: np.ndarray, tools: Iterable[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Rows of ``x`` whose ``tool`` feature is each of ``tools``, and the other rows."""
    column = x[:, INDEX["tool"]]
    own = {t: column == TOOLS.index(t) for t in tools}
    rest = np.ones(len(x), dtype=bool)
    for mask in own.values():
        rest &= ~mask
    return own, rest


def fit_per_tool(x: np.ndarray, y: np.ndarray, commits: Sequence[str],
                 separate: Sequence[str], power: float = COMMIT_WEIGHT,
                 **options: Any) -> PerTool:
    """:func:`fit` once per tool in ``separate`` on its rows, once on the others.

    Each part weighs its rows by its own commits' sizes (:func:`commit_weights`). A
    part without rows is None (leave-one-repository-out runs fit only the parts that
    score the held-out analyzers); such a model cannot be exported.
    """
    unknown = [t for t in separate if t not in TOOLS]
    if unknown:
        raise UsageError(f"unknown analyzer(s) to separate: {', '.join(unknown)} "
                         f"(known: {', '.join(TOOLS)})")
    own, rest = tool_masks(x, separate)

    def part(mask: np.ndarray) -> Any:
        if not mask.any():
            return None
        picked = [c for c, keep in zip(commits, mask.tolist()) if keep]
        return fit(x[mask], y[mask], weights=commit_weights(picked, power), **options)

    return PerTool(part(rest), {tool: part(mask) for tool, mask in own.items()})


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    """Probability of "fixed" per row, as LightGBM computes it."""
    if not isinstance(model, PerTool):
        return model.predict_proba(x)[:, 1]
    scores = np.zeros(len(x), dtype=np.float64)
    own, rest = model.masks(x)
    for tool, mask, part in [("", rest, model.shared),
                             *((t, own[t], m) for t, m in model.separate.items())]:
        if mask.any():
            scores[mask] = part.predict_proba(x[mask])[:, 1]
            if model.offsets.get(tool):
                scores[mask] = shift(scores[mask], model.offsets[tool])
    return scores


def _logit(p: float) -> float:
    q = min(max(p, EPS), 1 - EPS)
    return float(np.log(q) - np.log1p(-q))


def to_onnx(model: Any, name: str, threshold: float) -> bytes:
    """Serialise ``model`` (a classifier or a :class:`PerTool`) as ONNX with schema,
    name, kind and threshold metadata."""
    if isinstance(model, PerTool):
        onx = compose(_convert(model.shared, name),
                      {t: _convert(m, f"{name}-{t}") for t, m in model.separate.items()},
                      model.offsets)
    else:
        onx = _convert(model, name)
    for key, value in {META_SCHEMA: schema_id(), META_NAME: name, META_KIND: "learned",
                       META_THRESHOLD: f"{threshold:.6g}"}.items():
        onx.metadata_props.add(key=key, value=value)
    return onx.SerializeToString()


def _convert(model: Any, name: str) -> Any:
    """One fitted classifier as an ``onnx.ModelProto`` deciding exactly as LightGBM."""
    _, onnxmltools = _require()
    from onnxmltools.convert.common.data_types import FloatTensorType

    onx = onnxmltools.convert_lightgbm(
        model, name=name, initial_types=[("features", FloatTensorType([None, N_FEATURES]))],
        zipmap=False, target_opset=15)
    _exact_thresholds(onx, model.booster_)
    return onx


def _exact_thresholds(onx: Any, booster: Any) -> None:
    """Make float32 split thresholds decide exactly as LightGBM's float64 ones.

    LightGBM splits at midpoints between float32 feature values, in float64. ONNX
    stores thresholds as float32; a midpoint that rounds *up* onto the next value
    sends that value the wrong way. Rounding every threshold down instead keeps
    ``x <= t`` identical for every float32 ``x``.
    """
    fixes: dict[float, float] = {}
    clashes: set[float] = set()

    def walk(node: dict[str, Any]) -> None:
        if "threshold" in node and isinstance(node["threshold"], float) and abs(
                node["threshold"]) < 3e38:  # beyond float32 range: nothing to round
            t = node["threshold"]
            v = float(np.float32(t))
            if v > t:
                fixes[v] = float(np.nextafter(np.float32(t), np.float32(-np.inf)))
            else:
                clashes.add(v)
        for child in ("left_child", "right_child"):
            if child in node:
                walk(node[child])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    fixes = {v: t for v, t in fixes.items() if v not in clashes}
    for node in onx.graph.node:
        for attr in node.attribute:
            if attr.name == "nodes_values":
                values = [fixes.get(float(np.float32(v)), v) for v in attr.floats]
                del attr.floats[:]
                attr.floats.extend(values)


def onnx_scores(data: bytes, x: np.ndarray) -> np.ndarray:
    """Score ``x`` with an ONNX model held in memory (the scorer's output rule)."""
    import onnxruntime as ort

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    output = next((o for o in ("score", "probabilities") if o in outputs), outputs[-1])
    out = np.asarray(session.run([output], {session.get_inputs()[0].name:
                                            x.astype(np.float32)})[0], dtype=np.float64)
    return out[:, -1] if out.ndim == 2 and out.shape[1] > 1 else out.reshape(-1)


def parity(model: Any, data: bytes, x: np.ndarray) -> float:
    """Largest absolute difference between LightGBM and ONNX scores on ``x``."""
    if len(x) == 0:
        return 0.0
    return float(np.max(np.abs(predict(model, x) - onnx_scores(data, x))))


def write_model(data: bytes, out: str, info: dict[str, Any]) -> str:
    """Write the model and its hash manifest (``OUT.json``) crash-safely; return sha256.

    A kill -9 at any point leaves a pair the loader accepts: the manifest first lists
    both the new and the previous model's hash under ``accepted``, then the model is
    replaced, then the manifest is rewritten with the new hash alone.
    """
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    path = str(Path(out).with_suffix(".json"))
    manifest = {**info, "sha256": sha, "schema": schema_id(), "kind": "learned"}
    previous = _vouched_hash(out, path)
    if previous and previous != sha:
        atomic_write(path, _dump({**manifest, "accepted": [sha, previous]}))
    atomic_write(out, data)
    atomic_write(path, _dump(manifest))
    return sha


def _dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def _vouched_hash(out: str, manifest: str) -> str | None:
    """The existing model's sha256 when its manifest accepts it (or it has none)."""
    if not os.path.isfile(out):
        return None
    sha = file_sha256(out)
    if not os.path.isfile(manifest):
        return sha  # the loader accepts a model without a manifest: keep it usable
    try:
        accepted = accepted_hashes(json.loads(Path(manifest).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    # Never launder a tampered model: only a hash the old manifest vouched for.
    return sha if sha in accepted else None


def write_data_manifest(data: Any, out: str) -> None:
    """Provenance of a training set: per repository its commit window and counts."""
    # A repository mined twice (flake8/ruff, then pylint) counts each dataset's tools.
    counts: dict[tuple[str, str], list[int]] = {}
    for repo, tool, label in zip(data.repos, data.tools, data.y.tolist()):
        entry = counts.setdefault((repo, tool), [0, 0])
        entry[0] += 1
        entry[1] += label
    repositories = []
    for meta in data.metas:
        repo = meta.get("repo")
        tools = meta.get("tools") or sorted({t for r, t in counts if r == repo})
        each = [counts.get((repo, tool), [0, 0]) for tool in tools]
        rows, positives = sum(n for n, _ in each), sum(p for _, p in each)
        repositories.append({
            "repo": repo, "head": meta.get("head"),
            "window_parent": meta.get("first"), "commits": meta.get("commits"),
            "max_commits": meta.get("max_commits"), "since": meta.get("since"),
            "tools": meta.get("tools"), "rows": rows, "positives": positives})
    doc = {"schema": schema_id(), "rows": len(data), "positives": int(data.y.sum()),
           "repositories": sorted(repositories, key=lambda r: str(r["repo"]))}
    atomic_write(out, (json.dumps(doc, indent=2) + "\n").encode())


def choose_threshold(scores: np.ndarray, keep: float = 0.1) -> float:
    """The score above which the top ``keep`` fraction of ``scores`` lies."""
    if len(scores) == 0:
        return 0.5
    return float(np.quantile(scores, 1.0 - keep))
