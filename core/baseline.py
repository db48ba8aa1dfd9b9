"""Build the honest baseline model: analyzer severity order, as a tiny ONNX graph.

Run ``python -m lintrank.core.baseline OUT.onnx`` (needs ``lintrank[train]`` for
the ``onnx`` package). The result ranks only by the analyzer's own severity.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from lintrank.core.features import INDEX, N_FEATURES, schema_id
from lintrank.core.finding import SEVERITIES
from lintrank.core.onnx_model import (META_KIND, META_NAME, META_SCHEMA, META_THRESHOLD,
                                      file_sha256)

#: Score per severity bucket, in SEVERITIES order (fatal ... info).
SEVERITY_SCORES = (0.99, 0.9, 0.6, 0.35, 0.2, 0.1, 0.05)
BASELINE_THRESHOLD = 0.5


def build(out: str) -> str:
    """Write the baseline model to ``out`` with a hash manifest; return its sha256."""
    import onnx
    from onnx import TensorProto, helper

    if len(SEVERITY_SCORES) != len(SEVERITIES):
        raise ValueError("one baseline score per severity bucket is required")
    nodes = [
        helper.make_node("Gather", ["features", "sev_index"], ["sev"], axis=1),
        helper.make_node("Cast", ["sev"], ["sev_int"], to=TensorProto.INT64),
        helper.make_node("Gather", ["table", "sev_int"], ["score_2d"], axis=0),
        helper.make_node("Reshape", ["score_2d", "flat"], ["score"]),
    ]
    inits = [
        helper.make_tensor("sev_index", TensorProto.INT64, [1], [INDEX["severity"]]),
        helper.make_tensor("table", TensorProto.FLOAT, [len(SEVERITY_SCORES)],
                           list(SEVERITY_SCORES)),
        helper.make_tensor("flat", TensorProto.INT64, [1], [-1]),
    ]
    graph = helper.make_graph(
        nodes, "severity_baseline",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", N_FEATURES])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="lintrank")
    model.ir_version = 8  # readable by onnxruntime >= 1.16
    for key, value in {META_SCHEMA: schema_id(), META_NAME: "severity-baseline",
                       META_KIND: "baseline",
                       META_THRESHOLD: str(BASELINE_THRESHOLD)}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    Path(out).write_bytes(model.SerializeToString())
    sha = file_sha256(out)
    Path(out).with_suffix(".json").write_text(json.dumps(
        {"name": "severity-baseline", "kind": "baseline", "sha256": sha,
         "schema": schema_id()}, indent=2) + "\n", encoding="utf-8")
    return sha


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else "default.onnx"))
