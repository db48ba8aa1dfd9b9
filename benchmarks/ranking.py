"""Leave-one-repository-out ranking benchmark: the model card's metrics table.

    python benchmarks/ranking.py /work/data/ds/*.jsonl.gz [--json OUT] [--drop GROUP]

For each repository: train LightGBM on all the others (exactly as `lintrank
train` does, with the same default ``--ignore-features``), score the held-out
repository, and compare with the baselines (random, analyzer severity order,
per-code prior learned from the other repositories). The model is scored twice:
with the held-out repository's project memory (its past fixes, as after `lintrank
learn`) and without it (a project that never ran `lintrank learn`). Prints a
Markdown table: one row per held-out repository, then the mean over repositories.
``--drop history`` (or ``project``, ``memory``...) blanks a feature group to
measure what it contributes. ``--score-tools flake8,ruff`` measures only those
analyzers' held-out findings (training still uses every row of the other
repositories): whether adding another analyzer's rows changes how these rank.
``--separate-tools pylint`` trains as `lintrank train --separate-tools pylint`.
``--model M.onnx`` scores every fold with that model instead of training one (a
shipped model on the same rows and baselines; not held out unless it was trained
without those repositories or analyzers).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import sys

import numpy as np

from lintrank.core import evaluate, recency, train
from lintrank.core.dataset import load
from lintrank.core.features import INDEX, MEMORY_FEATURES
from lintrank.core.onnx_model import load_model

GROUPS = {
    "history": ("file_age_days", "file_commits", "file_commits_90d", "days_since_change",
                "file_authors", "file_churn_lines_90d"),
    "project": ("max_line_length", "line_excess", "code_in_config", "file_noqa_lines",
                "file_noqa_same_code"),
    "last_change": ("in_last_change", "last_change_distance"),
    "recency": recency.FEATURES,
    "memory": MEMORY_FEATURES,
}
BASELINES = ("model", "model without memory", "prior", "severity", "random")


def loro(paths: list[str], drop: list[str], params: dict | None = None,
         ignore: tuple[str, ...] = train.IGNORED_FEATURES,
         memory_mask: float = train.MEMORY_MASK,
         commit_weight: float = train.COMMIT_WEIGHT,
         score_tools: frozenset[str] = frozenset(),
         separate: tuple[str, ...] = (), fixed: str | None = None) -> dict:
    """Per-repository and mean metrics of the model and the baselines (on the held-out
    findings of ``score_tools`` only, when given)."""
    data = load(paths)
    for group in drop:
        for name in GROUPS.get(group, (group,)):
            data.x[:, INDEX[name]] = np.nan
    repos = sorted(set(data.repos))
    per_repo = {}
    # Every fold's held-out scores, for metrics over all repositories pooled.
    pooled: dict[str, list[np.ndarray]] = {"y": [], **{k: [] for k in BASELINES}}
    scored = np.asarray([not score_tools or t in score_tools for t in data.tools])
    given = load_model(fixed) if fixed else None  # the same model scores every fold
    for repo in repos:
        held = np.asarray([r == repo for r in data.repos])
        test, fit_on = data.subset(held & scored), data.subset(~held)
        if not len(test):
            continue
        if test.y.min() == test.y.max():
            continue  # one class only: no ranking to measure
        if given is not None:
            score = given.predict
        elif separate:
            if score_tools:  # only the parts that score the measured analyzers
                fit_on = fit_on.subset(_serving(fit_on.x, separate, score_tools))
            score = functools.partial(train.predict, train.fit_per_tool(
                fit_on.x, fit_on.y, fit_on.commits, separate, commit_weight, params=params,
                ignore=ignore, memory_mask=memory_mask))
        else:
            score = functools.partial(train.predict, train.fit(
                fit_on.x, fit_on.y, params, ignore, memory_mask,
                train.commit_weights(fit_on.commits, commit_weight)))
        scores = {"model": score(test.x),
                  "model without memory": score(train.mask_memory(test.x, 1.0)),
                  "prior": evaluate.CodePrior(fit_on).scores(test),
                  "severity": evaluate.severity_scores(test),
                  "random": evaluate.random_scores(test)}
        pooled["y"].append(test.y)
        for k, s in scores.items():
            pooled[k].append(np.asarray(s, dtype=np.float64))
        per_repo[repo] = {"rows": len(test), "positives": int(test.y.sum()),
                          "metrics": {k: {**evaluate.metrics(test.y, s, test.commits),
                                          "within_commit_auc_pairs": evaluate.within_commit_auc(
                                              test.y, s, test.commits, weighted=True)}
                                      for k, s in scores.items()}}
        print(f"{repo}: done", file=sys.stderr)
    mean = {k: {m: float(np.nanmean([r["metrics"][k][m] for r in per_repo.values()]))
                for m in (*evaluate.METRICS, "within_commit_auc_pairs")} for k in BASELINES}
    rate = float(np.mean([r["positives"] / r["rows"] for r in per_repo.values()]))
    y = np.concatenate(pooled["y"]) if pooled["y"] else np.zeros(0, dtype=np.int8)
    pooled_metrics = {k: {"auc": evaluate.auc(y, np.concatenate(pooled[k])),
                          "ap": evaluate.average_precision(y, np.concatenate(pooled[k]))}
                      for k in BASELINES} if len(y) else {}
    return {"repositories": per_repo, "mean": mean, "mean_positive_rate": rate,
            "pooled": pooled_metrics, "pooled_positive_rate": float(y.mean()) if len(y) else 0.0,
            "rows": len(data), "positives": int(data.y.sum()), "dropped": drop,
            "params": {**train.PARAMS, **(params or {})}, "ignored_features": list(ignore),
            "memory_mask": memory_mask, "commit_weight": commit_weight,
            "score_tools": sorted(score_tools), "separate_tools": list(separate),
            "model": fixed}


def _serving(x: np.ndarray, separate: tuple[str, ...], tools: frozenset[str]) -> np.ndarray:
    """Rows of the parts that score ``tools`` when ``separate`` get parts of their own,
    routed as the model routes them (:func:`lintrank.core.train.tool_masks`)."""
    own, rest = train.tool_masks(x, separate)
    parts = [own[t] for t in tools if t in own] + ([rest] if tools - own.keys() else [])
    return np.logical_or.reduce(parts)


def markdown(result: dict) -> str:
    """The card's table: AUC / AP / P@10% / within-commit AUC per method."""
    head = ("| held-out repository | rows | pos % | " + " | ".join(
        f"{k} AUC / AP / P@10% / wc-AUC" for k in BASELINES) + " |")
    lines = [head, "|" + "---|" * (3 + len(BASELINES))]

    def cell(values: dict) -> str:
        return " / ".join("-" if math.isnan(values[m]) else f"{values[m]:.3f}"
                          for m in evaluate.METRICS)

    for repo, r in result["repositories"].items():
        lines.append(f"| {repo} | {r['rows']} | {100 * r['positives'] / r['rows']:.1f} | "
                     + " | ".join(cell(r["metrics"][k]) for k in BASELINES) + " |")
    lines.append(f"| **mean** | {result['rows']} | {100 * result['mean_positive_rate']:.1f} | "
                 + " | ".join(cell(result["mean"][k]) for k in BASELINES) + " |")
    lines += ["", "Mean within-commit AUC weighted by each commit's (fixed, persisting) "
              "pair count: " + ", ".join(
                  f"{k} {result['mean'][k]['within_commit_auc_pairs']:.3f}" for k in BASELINES),
              "", "AP lift (AP / positive rate) per repository, model vs prior: " + ", ".join(
                  f"{repo.split('/')[1]} "
                  f"{r['metrics']['model']['ap'] * r['rows'] / r['positives']:.1f}"
                  f" vs {r['metrics']['prior']['ap'] * r['rows'] / r['positives']:.1f}"
                  for repo, r in result["repositories"].items())]
    lifts = [r["metrics"]["model"]["ap"] * r["rows"] / r["positives"]
             for r in result["repositories"].values()]
    if lifts:
        lines += ["", f"Model AP lift over repositories: mean {np.mean(lifts):.1f}x, median "
                  f"{np.median(lifts):.1f}x, >= 3x on {sum(v >= 3 for v in lifts)} of {len(lifts)}"]
    if result.get("pooled"):
        rate = result["pooled_positive_rate"]
        lines += ["", f"All held-out scores pooled ({100 * rate:.1f}% positives), AUC / AP "
                  "(lift): " + ", ".join(
                      f"{k} {v['auc']:.3f} / {v['ap']:.3f} ({v['ap'] / rate:.1f}x)"
                      for k, v in result["pooled"].items())]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--json", metavar="OUT", help="also write the full results as JSON")
    parser.add_argument("--drop", action="append", default=[],
                        choices=sorted(GROUPS) + sorted(INDEX),
                        help="blank a feature group or one feature (ablation)")
    parser.add_argument("--ignore-features", metavar="NAME,...", default=None,
                        help="as `lintrank train --ignore-features` (default: the same)")
    parser.add_argument("--memory-mask", type=float, default=train.MEMORY_MASK,
                        help="as `lintrank train --memory-mask` (default: the same)")
    parser.add_argument("--commit-weight", type=float, default=train.COMMIT_WEIGHT,
                        help="as `lintrank train --commit-weight` (default: the same)")
    parser.add_argument("--score-tools", metavar="TOOL,...", default="",
                        help="measure only these analyzers' held-out findings")
    parser.add_argument("--separate-tools", metavar="TOOL,...", default="",
                        help="as `lintrank train --separate-tools`")
    parser.add_argument("--model", metavar="M.onnx",
                        help="score with this model instead of training one per fold")
    parser.add_argument("--params", default="{}",
                        help="JSON object overriding LightGBM parameters (tuning)")
    args = parser.parse_args()
    ignore = train.ignored_features(args.ignore_features)
    result = loro(args.datasets, args.drop, json.loads(args.params), ignore,
                  args.memory_mask, args.commit_weight,
                  frozenset(filter(None, args.score_tools.split(","))),
                  tuple(filter(None, args.separate_tools.split(","))), args.model)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
