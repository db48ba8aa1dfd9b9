"""One ONNX reward model made of several tree ensembles, chosen per row by analyzer.

`lintrank train --separate-tools pylint` fits pylint's findings in trees of their
own: trained together with flake8's and ruff's, pylint rows lowered flake8/ruff
ranking on unseen repositories while gaining less on pylint's own than a separate
model does (models/MODEL_CARD.md). The scorer still loads one model file, checked
by one hash: this graph sends each row to the ensemble of its ``tool`` feature (the
shared one for any other analyzer) and scatters the scores back in row order.
Each ensemble sees only its own rows, so the graph costs what one ensemble does.
A separate ensemble's scores can be shifted in logit space (a monotone change of
its base rate) so that one default threshold keeps the same share of each
analyzer's findings (:meth:`lintrank.core.train.PerTool.align`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lintrank.core.features import INDEX, N_FEATURES, TOOLS

INPUT = "features"
OUTPUT = "score"


#: Probabilities are kept this far from 0 and 1 before a logit offset (see compose).
EPS = 1e-7


def compose(shared: Any, separate: Mapping[str, Any],
            offsets: Mapping[str, float] | None = None) -> Any:
    """An ``onnx.ModelProto`` routing rows of each tool in ``separate`` to its own
    converted classifier (``zipmap=False``, input ``features``) and every other row
    to ``shared``; the output ``score`` (n,) is the probability of "fixed", for a
    tool in ``offsets`` with that many added to its logit (:func:`shift`)."""
    from onnx import TensorProto, helper
    from onnx import compose as onnx_compose

    nodes: list[Any] = [
        helper.make_node("Gather", [INPUT, "tool_col"], ["tool"], axis=1),
        helper.make_node("Shape", ["tool"], ["rows"]),
        helper.make_node("ConstantOfShape", ["rows"], ["zeros"],
                         value=helper.make_tensor("z", TensorProto.FLOAT, [1], [0.0])),
    ]
    inits = [helper.make_tensor("tool_col", TensorProto.INT64, [], [INDEX["tool"]]),
             helper.make_tensor("one", TensorProto.INT64, [1], [1]),
             helper.make_tensor("flat", TensorProto.INT64, [1], [-1])]
    others = None  # rows no separate ensemble has taken so far
    # (name prefix, converted model, row mask, logit offset) of each ensemble.
    parts: list[tuple[str, Any, str, float]] = []
    for i, (tool, model) in enumerate(separate.items()):
        # Callers check the names (train.fit_per_tool); index() fails on any other.
        inits.append(helper.make_tensor(f"id{i}", TensorProto.FLOAT, [],
                                        [float(TOOLS.index(tool))]))
        nodes.append(helper.make_node("Equal", ["tool", f"id{i}"], [f"is{i}"]))
        parts.append((f"p{i}/", model, f"is{i}", float((offsets or {}).get(tool, 0.0))))
        nodes.append(helper.make_node("Or", [others, f"is{i}"], [f"any{i}"])
                     if others else helper.make_node("Identity", [f"is{i}"], [f"any{i}"]))
        others = f"any{i}"
    nodes.append(helper.make_node("Not", [others], ["rest"]))
    parts.append(("shared/", shared, "rest", 0.0))
    graphs, opsets = [], {}
    current = "zeros"
    for n, (prefix, model, mask, offset) in enumerate(parts):
        sub = onnx_compose.add_prefix(model, prefix)
        for entry in model.opset_import:
            opsets[entry.domain] = max(opsets.get(entry.domain, 0), entry.version)
        # Rows of this part: their indices (k, 1), their features (k, F).
        nodes += [
            helper.make_node("NonZero", [mask], [f"{prefix}nz"]),
            helper.make_node("Transpose", [f"{prefix}nz"], [f"{prefix}idx"], perm=[1, 0]),
            helper.make_node("Reshape", [f"{prefix}nz", "flat"], [f"{prefix}rows"]),
            helper.make_node("Gather", [INPUT, f"{prefix}rows"], [prefix + INPUT], axis=0),
        ]
        graphs.append(sub.graph)
        probabilities = next(o.name for o in sub.graph.output
                             if o.name.endswith("probabilities"))
        # Column 1, P(fixed), (shifted and) scattered back into the rows' places.
        nodes += [
            helper.make_node("Gather", [probabilities, "one"], [f"{prefix}p1"], axis=1),
            helper.make_node("Reshape", [f"{prefix}p1", "flat"], [f"{prefix}p"]),
        ]
        score = f"{prefix}p"
        if offset:
            score = _shift_nodes(nodes, inits, prefix, score, offset)
        nodes.append(helper.make_node(
            "ScatterND", [current, f"{prefix}idx", score],
            [OUTPUT if n == len(parts) - 1 else f"{prefix}out"]))
        current = f"{prefix}out"
    for graph in graphs:
        # The part's own input is fed by the Gather above: drop it as a graph input.
        nodes += list(graph.node)
        inits += list(graph.initializer)
    graph = helper.make_graph(
        nodes, "lintrank-composite",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, N_FEATURES])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [None])], inits)
    opsets[""] = max(opsets.get("", 0), 15)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v)
                                                   for d, v in sorted(opsets.items())])


def shift(p: Any, offset: float) -> Any:
    """``sigmoid(logit(p) + offset)`` in numpy, exactly as the graph computes it."""
    import numpy as np

    q = np.clip(np.asarray(p, dtype=np.float32), np.float32(EPS), np.float32(1 - EPS))
    logit = np.log(q) - np.log(np.float32(1) - q) + np.float32(offset)
    return (np.float32(1) / (np.float32(1) + np.exp(-logit))).astype(np.float32)


def _shift_nodes(nodes: list[Any], inits: list[Any], prefix: str, score: str,
                 offset: float) -> str:
    """Append the nodes of :func:`shift` on ``score``; return the shifted tensor."""
    from onnx import TensorProto, helper

    for name, value in (("lo", EPS), ("hi", 1 - EPS), ("unit", 1.0), ("offset", offset)):
        inits.append(helper.make_tensor(f"{prefix}{name}", TensorProto.FLOAT, [], [value]))
    nodes += [
        helper.make_node("Clip", [score, f"{prefix}lo", f"{prefix}hi"], [f"{prefix}q"]),
        helper.make_node("Log", [f"{prefix}q"], [f"{prefix}log_q"]),
        helper.make_node("Sub", [f"{prefix}unit", f"{prefix}q"], [f"{prefix}q_rest"]),
        helper.make_node("Log", [f"{prefix}q_rest"], [f"{prefix}log_rest"]),
        helper.make_node("Sub", [f"{prefix}log_q", f"{prefix}log_rest"], [f"{prefix}logit"]),
        helper.make_node("Add", [f"{prefix}logit", f"{prefix}offset"], [f"{prefix}moved"]),
        helper.make_node("Sigmoid", [f"{prefix}moved"], [f"{prefix}shifted"]),
    ]
    return f"{prefix}shifted"
