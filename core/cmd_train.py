"""``lintrank train DATASET... --out MODEL.onnx``: fit and export the reward model."""
from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train a reward model on mined datasets (lintrank[train])")
    p.add_argument("datasets", nargs="+", metavar="DATASET", help="files from `lintrank mine`")
    p.add_argument("--out", required=True, metavar="MODEL.onnx", help="model to write")
    p.add_argument("--name", default="lintrank-learned", help="model name in its metadata")
    p.add_argument("--threshold", type=float, metavar="F",
                   help="recommended keep threshold (default: the score above which "
                        "the top --keep fraction of training findings lies)")
    p.add_argument("--keep", type=float, default=0.1, metavar="FRACTION",
                   help="fraction of training findings kept at the default threshold")
    p.add_argument("--ignore-features", metavar="NAME,...", default=None,
                   help="features the trees must not use (default: "
                        "lintrank.core.train.IGNORED_FEATURES; '' uses all)")
    p.add_argument("--memory-mask", type=float, default=None, metavar="SHARE",
                   help="share of rows fitted without their project-memory columns "
                        "(default: lintrank.core.train.MEMORY_MASK)")
    p.add_argument("--commit-weight", type=float, default=None, metavar="POWER",
                   help="weigh each row 1 / (rows of its commit) ** POWER, so bulk "
                        "clean-up commits do not dominate (default: "
                        "lintrank.core.train.COMMIT_WEIGHT; 0 weighs rows equally)")
    p.add_argument("--separate-tools", metavar="TOOL,...", default="",
                   help="analyzers whose findings get trees of their own (one model "
                        "file still; e.g. pylint: its findings differ from flake8's "
                        "and ruff's, see models/MODEL_CARD.md); the default threshold "
                        "then keeps the top --keep of each analyzer's findings")
    p.add_argument("--data-manifest", metavar="FILE",
                   help="also write the training data's provenance (repositories, "
                        "commit windows, row counts) as JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from lintrank.core import dataset, train
    from lintrank.core.exceptions import UsageError

    data = dataset.load(args.datasets)
    if len(data) == 0:
        raise UsageError("the datasets hold no findings")
    ignore = train.ignored_features(args.ignore_features)
    mask = train.MEMORY_MASK if args.memory_mask is None else args.memory_mask
    if not 0.0 <= mask <= 1.0:
        raise UsageError(f"--memory-mask must be between 0 and 1, not {mask}")
    power = train.COMMIT_WEIGHT if args.commit_weight is None else args.commit_weight
    separate = [t.strip() for t in args.separate_tools.split(",") if t.strip()]
    if separate:
        model = train.fit_per_tool(data.x, data.y, data.commits, separate, power,
                                   ignore=ignore, memory_mask=mask)
        missing = [t for t, m in [("other analyzers", model.shared),
                                  *model.separate.items()] if m is None]
        if missing:
            raise UsageError(f"--separate-tools: the datasets hold no findings of "
                             f"{', '.join(missing)}")
    else:
        model = train.fit(data.x, data.y, ignore=ignore, memory_mask=mask,
                          weights=train.commit_weights(data.commits, power))
    # The default threshold keeps --keep of the findings of a project without a
    # memory (no `lintrank learn` yet): what a new user meets first.
    plain = train.mask_memory(data.x, 1.0)
    if separate:
        threshold = model.align(plain, args.keep, args.threshold)
    else:
        threshold = args.threshold if args.threshold is not None else \
            train.choose_threshold(train.predict(model, plain), args.keep)
    blob = train.to_onnx(model, args.name, threshold)
    # Rows from the whole set (datasets come one after another, each part's rows too).
    gap = train.parity(model, blob, data.x[::max(1, len(data) // 5000)])
    if gap > train.PARITY_TOLERANCE:
        raise UsageError(f"ONNX export differs from LightGBM by {gap:.2e}; not written")
    repos = sorted(set(data.repos))
    sha = train.write_model(blob, args.out, {
        "name": args.name, "threshold": threshold, "rows": len(data),
        "positives": int(data.y.sum()), "repositories": repos,
        "ignored_features": list(ignore), "memory_mask": mask,
        "commit_weight": power, "separate_tools": separate,
        "logit_offsets": getattr(model, "offsets", {})})
    if args.data_manifest:
        train.write_data_manifest(data, args.data_manifest)
    print(f"lintrank train: {len(data)} findings from {len(repos)} repositories, "
          f"threshold {threshold:.4f}, parity {gap:.1e} -> {args.out} ({sha[:12]})",
          file=sys.stderr)
    return 0
