"""Why a finding scored what it did: one-feature ablation through the model itself.

Each feature the model uses is replaced, one at a time, by its value in a
*reference finding* (a typical one; a model may carry its own in its ONNX
metadata under ``lintrank.reference``) and the finding is scored again. All
ablated rows of a run go through the same ONNX session in batched calls, so the
explanation is what the served model does, not a story about it: the
contribution of feature ``j`` is ``score(x) - score(x with x_j = reference_j)``,
so setting the named feature to the reference value moves the score by exactly
minus its contribution. Features whose value equals the reference contribute
nothing and are not scored, which keeps the cost a small multiple of scoring.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Sequence

import numpy as np
from lintrank.core.context import SCOPE_KINDS, STMT_KINDS
from lintrank.core.features import FEATURES, INDEX, N_FEATURES, TOOLS
from lintrank.core.finding import SEVERITIES, Finding, ScoredFinding
from lintrank.core.onnx_model import RewardModel

META_REFERENCE = "lintrank.reference"
#: How many features an explanation names, largest effect first.
TOP = 3
_EPS = 1e-6
_CHUNK = 65536  # rows per model call: bounds memory on huge runs

#: A typical finding (flake8-style warning in a mid-sized function of a mid-sized,
#: moderately active file); used when the model does not carry its own reference.
REFERENCE: dict[str, float] = {
    "tool": 0.0, "code_letter": 5.0, "code_number": 501.0, "severity": 2.0,
    "stmt_kind": float(STMT_KINDS.index("Assign")), "scope_kind": 2.0,
    "scope_lines": 20.0, "depth": 1.0, "in_loop": 0.0, "in_try": 0.0, "in_except": 0.0,
    "in_with": 0.0, "in_class": 0.0, "module_level": 0.0, "is_test_file": 0.0,
    "is_init": 0.0, "is_setup_or_conftest": 0.0, "file_lines": 300.0,
    "line_length": 40.0, "line_is_comment": 0.0, "line_has_pragma": 0.0,
    "file_findings": 20.0, "file_same_code": 3.0, "scope_findings": 3.0,
    "scope_same_code": 1.0, "file_distinct_codes": 8.0, "findings_per_100_lines": 5.0,
    "file_age_days": 700.0, "file_commits": 20.0, "file_commits_90d": 2.0,
    "days_since_change": 60.0, "file_authors": 3.0, "file_churn_lines": 500.0,
    "file_churn_lines_90d": 20.0, "max_line_length": 79.0, "line_excess": 0.0,
    "code_in_config": 0.0, "file_noqa_lines": 0.0, "file_noqa_same_code": 0.0,
    "in_last_change": 0.0, "last_change_distance": 50.0,
    "near_edit_days": 91.0, "near_edited_lines": 0.0, "line_edit_days": 91.0,
    "file_edited_lines": 10.0, "edit_distance": 100.0, "scope_edit_days": 91.0,
    "scope_edited_share": 0.0,
    # A project without `lintrank learn`: its memory is then no reason for a score.
    "project_code_fixes": math.nan, "project_file_fixes": math.nan,
    "project_fixes": math.nan, "project_code_fix_share": math.nan,
}
_FLAGS = frozenset({"in_loop", "in_try", "in_except", "in_with", "in_class",
                    "module_level", "is_test_file", "is_init", "is_setup_or_conftest",
                    "line_is_comment", "line_has_pragma", "code_in_config",
                    "in_last_change"})
_NAMES = {"tool": TOOLS, "severity": SEVERITIES, "stmt_kind": STMT_KINDS,
          "scope_kind": SCOPE_KINDS}

Entry = tuple[str, float]


def reference_row(model: RewardModel) -> np.ndarray:
    """The reference finding for ``model``: its metadata's, else :data:`REFERENCE`."""
    meta = model._session.get_modelmeta().custom_metadata_map  # type: ignore[attr-defined]
    return _reference(model.sha256, meta.get(META_REFERENCE, ""))


@functools.lru_cache(maxsize=8)
def _reference(sha: str, raw: str) -> np.ndarray:
    values = dict(REFERENCE)
    if raw:
        try:
            given = json.loads(raw)
            given = dict(zip(FEATURES, given)) if isinstance(given, list) else given
            values.update({k: float(v) for k, v in given.items() if k in INDEX})
        except (ValueError, TypeError, AttributeError):
            pass  # a malformed reference falls back to the built-in one
    # A feature newer than this table is compared with 0 ("absent").
    return np.asarray([values.get(name, 0.0) for name in FEATURES], dtype=np.float32)


def used_features(model: RewardModel) -> tuple[int, ...]:
    """Indices of the features the ONNX graph reads (all, when it cannot tell)."""
    return _used_features(model.path, model.sha256)


@functools.lru_cache(maxsize=8)
def _used_features(path: str, sha: str) -> tuple[int, ...]:
    every = tuple(range(N_FEATURES))
    try:
        import onnx  # the train extra; without it every feature is ablated
        graph = onnx.load(path).graph
    except Exception:  # ImportError, or a file onnx cannot parse but ort can
        return every
    aliases = {graph.input[0].name}
    used: set[int] = set()
    for node in graph.node:
        if not aliases.intersection(node.input):
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type in ("Identity", "Cast") or (  # rows picked whole: same columns
                node.op_type == "Gather" and attrs.get("axis", 0) == 0
                and node.input[0] in aliases):
            aliases.update(node.output)
        elif "nodes_featureids" in attrs:  # TreeEnsemble{Classifier,Regressor}
            modes = attrs.get("nodes_modes") or [b"BRANCH"] * len(attrs["nodes_featureids"])
            used.update(int(fid) for fid, mode in zip(attrs["nodes_featureids"], modes)
                        if mode != b"LEAF")
        elif node.op_type == "Gather" and attrs.get("axis", 0) in (1, -1):
            inits = {t.name: t for t in graph.initializer}
            if node.input[1] not in inits:
                return every
            used.update(int(i) for i in onnx.numpy_helper.to_array(
                inits[node.input[1]]).reshape(-1))
        else:
            return every  # an op mixing all columns (MatMul, ...): assume all
    return tuple(sorted(i for i in used if 0 <= i < N_FEATURES))


def contributions(model: RewardModel, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Base scores and an (n, N_FEATURES) matrix of ablation contributions."""
    rows = np.asarray(rows, dtype=np.float32)
    base = model.predict(rows)
    deltas = np.zeros(rows.shape, dtype=np.float64)
    ref = reference_row(model)
    blocks: list[np.ndarray] = []
    owners: list[tuple[int, np.ndarray]] = []
    for j in used_features(model):
        column = rows[:, j]
        same = (column == ref[j]) | (np.isnan(column) & math.isnan(ref[j]))
        idx = np.nonzero(~same)[0]
        if idx.size:
            ablated = rows[idx].copy()
            ablated[:, j] = ref[j]
            blocks.append(ablated)
            owners.append((j, idx))
    if not blocks:
        return base, deltas
    stacked = np.concatenate(blocks)
    scores = np.concatenate([model.predict(stacked[i:i + _CHUNK])
                             for i in range(0, len(stacked), _CHUNK)])
    offset = 0
    for j, idx in owners:
        deltas[idx, j] = base[idx] - scores[offset:offset + idx.size]
        offset += idx.size
    return base, deltas


def explain_rows(model: RewardModel, rows: np.ndarray, top: int = TOP) -> list[tuple[Entry, ...]]:
    """Per row, the ``top`` features with the largest effect, as ("name=value", delta)."""
    _, deltas = contributions(model, rows)
    out: list[tuple[Entry, ...]] = []
    for row, delta in zip(rows, deltas):
        order = np.argsort(-np.abs(delta), kind="stable")[:top]
        out.append(tuple((f"{FEATURES[j]}={display(FEATURES[j], float(row[j]))}",
                          round(float(delta[j]), 6))
                         for j in order if abs(delta[j]) > _EPS))
    return out


def attach(results: list[ScoredFinding], findings: Sequence[Finding], rows: np.ndarray,
           model: RewardModel, stages: tuple[np.ndarray, np.ndarray, np.ndarray],
           weights: Sequence[tuple[str, float] | None],
           extras: Sequence[dict[str, float]] = (),
           features: Sequence[tuple[Entry, ...]] | None = None) -> list[ScoredFinding]:
    """Give every ranked result its explanation.

    ``stages`` are the scores of ``findings`` from the model, after plugins'
    ``lintrank_adjust_score`` and after priorities; each later stage that moved a
    score adds an entry, so the entries add up to how the final score came about.
    ``features`` are :func:`explain_rows` of ``rows`` when the caller has them.
    """
    model_scores, adjusted, final = stages
    if features is None:  # or from the cache (core/explain_cache.py)
        features = explain_rows(model, rows)
    position = {id(f): i for i, f in enumerate(findings)}
    out = []
    for item in results:
        i = position[id(item.finding)]
        entries = list(features[i])
        if abs(adjusted[i] - model_scores[i]) > _EPS:
            entries.append(("plugin=adjusted", round(float(adjusted[i] - model_scores[i]), 6)))
        if extras:  # plugins' extra features, shown as they are (not model inputs)
            entries.extend((f"extra:{k}={float(v):g}", 0.0) for k, v in extras[i].items()
                           if isinstance(v, (int, float)))
        if weights[i] is not None:
            key, weight = weights[i]
            entries.append(priority_entry(key, weight, float(final[i] - adjusted[i])))
        out.append(dataclasses.replace(item, explanation=tuple(entries)))
    return out


@functools.lru_cache(maxsize=8192)
def display(name: str, value: float) -> str:
    """A feature value as a person reads it (``severity=error``, ``in_loop=yes``)."""
    if math.isnan(value):
        return "unknown"
    if name in _FLAGS:
        return "yes" if value else "no"
    if name in _NAMES:
        names = _NAMES[name]
        return names[int(value)] if 0 <= int(value) < len(names) else "other"
    if name == "code_letter":
        letters, number = "", int(value)
        while number > 0:
            number, rest = divmod(number, 27)
            letters = chr(rest + 64) + letters
        return letters or "?"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def priority_entry(key: str, weight: float, delta: float) -> Entry:
    """The explanation entry of a ``[tool.lintrank] priorities`` weight."""
    return (f"priority:{key}={weight:g}", round(delta, 6))


def records(entries: Sequence[Entry], model: RewardModel | None = None) -> list[dict]:
    """Explanation entries as JSON records (``kind``, name, value, effect)."""
    ref = reference_row(model) if model is not None else None
    out = []
    for label, delta in entries:
        name, _, value = label.partition("=")
        effect = "raises" if delta > 0 else "lowers"
        if name.startswith("priority:"):
            out.append({"kind": "priority", "key": name[9:], "weight": float(value),
                        "contribution": delta, "effect": effect})
        elif name == "plugin":
            out.append({"kind": "plugin", "contribution": delta, "effect": effect})
        elif name.startswith("extra:"):
            out.append({"kind": "extra", "name": name[6:], "value": float(value)})
        else:
            record = {"kind": "feature", "feature": name, "value": value,
                      "contribution": delta, "effect": effect}
            if ref is not None and name in INDEX:
                record["reference"] = display(name, float(ref[INDEX[name]]))
            out.append(record)
    return out


def summary(entries: Sequence[Entry]) -> str:
    """One line: ``severity=error +0.31, priority:style=0.2 -0.12``."""
    return ", ".join(label[6:] if label.startswith("extra:") else f"{label} {delta:+.3f}"
                     for label, delta in entries)


def help_for(finding: Finding) -> dict[str, str]:
    """The analyzer's own documentation of the finding's code: text and link."""
    from lintrank.core.helptext import help_text, help_uri

    return {"text": help_text(finding.tool, finding.code, finding.symbol),
            "uri": help_uri(finding.tool, finding.code, finding.symbol, finding.category)}


def as_json(item: ScoredFinding, model: RewardModel | None = None) -> dict:
    """A result's explanation for JSON and SARIF: factors (largest first) and help."""
    return {"factors": records(item.explanation, model), "help": help_for(item.finding)}


def why(item: ScoredFinding) -> str:
    """A result's explanation in one line of text (``--explain``)."""
    info = help_for(item.finding)
    factors = summary(item.explanation) or "no feature differs from a typical finding"
    text = f" {info['text']}" if info["text"] else ""
    return f"why: {factors} | help:{text} {info['uri']}"
