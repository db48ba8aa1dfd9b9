"""``lintrank eval DATASET... [--model PATH] [--train DATASET...]``: ranking metrics."""
from __future__ import annotations

import argparse
import json
import math


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("eval", help="evaluate a reward model and baselines on mined datasets")
    p.add_argument("datasets", nargs="+", metavar="DATASET", help="files from `lintrank mine`")
    p.add_argument("--model", metavar="PATH", help="ONNX model (default: the shipped one)")
    p.add_argument("--train", nargs="+", metavar="DATASET",
                   help="training datasets: adds the per-code prior baseline")
    p.add_argument("--format", choices=("text", "json"), default="text")
    return p


def run(args: argparse.Namespace) -> int:
    from lintrank.core import dataset, evaluate
    from lintrank.core.onnx_model import load_model
    from lintrank.models import DEFAULT_MODEL

    data = dataset.load(args.datasets)
    train = dataset.load(args.train) if args.train else None
    model = load_model(args.model or str(DEFAULT_MODEL))
    result = evaluate.report(data, model.predict(data.x), train)
    result["model"] = model.info()
    if args.format == "json":
        print(json.dumps(_nulls(result), indent=2))
        return 0
    print(f"{result['rows']} findings, {result['positives']} fixed "
          f"({100.0 * result['positives'] / max(result['rows'], 1):.1f}%); "
          f"model {model.name} ({model.sha256[:12]})")
    print(f"{'':10} " + " ".join(f"{m:>17}" for m in evaluate.METRICS))
    for name, values in result["metrics"].items():
        print(f"{name:10} " + " ".join(f"{values[m]:17.3f}" for m in evaluate.METRICS))
    return 0


def _nulls(value: object) -> object:
    """NaN (a metric undefined for one class) becomes JSON null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    return value
