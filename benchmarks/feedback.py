"""User-feedback features (issue 6): `lintrank learn`, LSP latency, explanation cost.

Usage:
    python benchmarks/feedback.py learn [--repo pallets+itsdangerous] [--max-commits 400]
    python benchmarks/feedback.py lsp [--repo pallets+click] [--file src/click/parser.py]
    python benchmarks/feedback.py explain [--repo pallets+click] [--rows 20000]

``learn`` clones a training-corpus mirror and times `lintrank learn` on it (its
output holds the project-model vs shipped-model figures on the later history).
``lsp`` starts `lintrank lsp` with a real LSP client and times didOpen (cold),
didSave of the unchanged file (warm: cache hits), didSave after an edit (the
analyzers re-run on that file) and an unsaved didChange, each up to the
matching publishDiagnostics. ``explain`` times scoring with and without
explanations, in-process on feature rows and end to end (`check --format json`),
with a LightGBM model made by `lintrank mine` + `lintrank train` on the repository.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tree import clone_mirror  # noqa: E402

BIN = Path(sys.executable).parent


def run(argv: list[str], cwd: Path, env: dict | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:3])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout + proc.stderr


def tree(repo: str, tmp: str) -> Path:
    root = clone_mirror(repo, Path(tmp) / "tree")
    if root is None:
        raise SystemExit(f"no mirror {repo} under $LINTRANK_MIRRORS")
    return root


def bench_learn(args: argparse.Namespace, tmp: str) -> None:
    root = tree(args.repo, tmp)
    args.tools = args.tools or "flake8,ruff"
    seconds, out = run([str(BIN / "lintrank"), "learn", "--tools", args.tools,
                        "--max-commits", str(args.max_commits), "--jobs", str(args.jobs)],
                       root, {"LINTRANK_CACHE_DIR": str(Path(tmp) / "cache")})
    print(out.strip())
    print(f"lintrank learn on {args.repo} (last {args.max_commits} commits, {args.tools}, "
          f"-j{args.jobs}, cold): {seconds:.1f} s wall")


async def _lsp(root: Path, rel: str, runs: int, tools: str | None) -> dict[str, list[float]]:
    import pytest_lsp
    from lsprotocol import types

    config = pytest_lsp.ClientServerConfig(
        server_command=[str(BIN / "lintrank"), "lsp"],
        server_env={**os.environ, "LINTRANK_CACHE_DIR": str(root.parent / "cache")})
    client = await config.start()
    await client.initialize_session(types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        root_uri=root.as_uri(), initialization_options={
            "debounce": 0, **({"tools": tools} if tools else {})}))
    path = root / rel
    uri, text = path.as_uri(), path.read_text(encoding="utf-8")
    times: dict[str, list[float]] = {"open (cold)": [], "save, unchanged (warm)": [],
                                     "save after an edit (warm)": [],
                                     "unsaved change (warm)": []}

    async def timed(label: str, send) -> None:  # type: ignore[no-untyped-def]
        client.diagnostics.pop(uri, None)
        start = time.perf_counter()
        send()
        while uri not in client.diagnostics:
            await asyncio.sleep(0.002)
        times[label].append(time.perf_counter() - start)

    def save() -> None:
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

    await timed("open (cold)", lambda: client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=text))))
    version = 1
    for i in range(runs):
        await timed("save, unchanged (warm)", save)
        version += 1
        text = text + f"\n# edit {i}\n"
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        while uri not in client.diagnostics:  # the unsaved edit's own analysis
            await asyncio.sleep(0.002)
        path.write_text(text, encoding="utf-8")
        await timed("save after an edit (warm)", save)
        version += 1
        change = types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(
                text=text + "x = 1\n")])
        await timed("unsaved change (warm)",
                    lambda c=change: client.text_document_did_change(c))
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        version += 1
        while uri not in client.diagnostics:
            await asyncio.sleep(0.002)
    await client.shutdown_session()
    await client.stop()
    return times


def bench_lsp(args: argparse.Namespace, tmp: str) -> None:
    root = tree(args.repo, tmp)
    lines = len((root / args.file).read_text(encoding="utf-8").splitlines())
    times = asyncio.run(_lsp(root, args.file, args.runs, args.tools))
    print(f"lintrank lsp on {args.repo}:{args.file} ({lines} lines, tools "
          f"{args.tools or 'flake8,pylint'}, shipped model), event -> publishDiagnostics:")
    for label, values in times.items():
        print(f"  {label:<28} median {statistics.median(values) * 1000:8.1f} ms "
              f"(n={len(values)})")


def bench_explain(args: argparse.Namespace, tmp: str) -> None:
    import numpy as np
    from lintrank.core import explain
    from lintrank.core.onnx_model import load_model

    root = tree(args.repo, tmp)
    env = {"LINTRANK_CACHE_DIR": str(Path(tmp) / "cache")}
    data, model_path = Path(tmp) / "ds.jsonl.gz", Path(tmp) / "model.onnx"
    run([str(BIN / "lintrank"), "mine", ".", "--out", str(data), "--max-commits",
         str(args.max_commits), "--jobs", "2"], root, env)
    run([str(BIN / "lintrank"), "train", str(data), "--out", str(model_path)], root, env)
    model = load_model(str(model_path))
    rng = np.random.default_rng(0)
    from lintrank.core.dataset import load

    x = load([str(data)]).x
    rows = x[rng.integers(0, len(x), args.rows)]
    score = min(_timeit(lambda: model.predict(rows)) for _ in range(3))
    why = min(_timeit(lambda: explain.explain_rows(model, rows)) for _ in range(3))
    used = len(explain.used_features(model))
    print(f"explanations in-process, {args.rows} findings, LightGBM model of "
          f"`lintrank train` ({used} features used): scoring {score * 1000:.1f} ms, "
          f"explaining {why * 1000:.1f} ms ({why / score:.1f}x scoring)")
    off = Path(tmp) / "off.toml"
    off.write_text("[tool.lintrank]\nexplain = false\n", encoding="utf-8")
    check = [str(BIN / "lintrank"), "check", "--format", "json", "--quiet", "--tools",
             "flake8,ruff", "--model", str(model_path), "--threshold", "0", "."]
    run(check, root, env)  # warm the analyzer cache
    with_, without = [], []
    for _ in range(args.runs):
        without.append(run([*check, "--config", str(off)], root, env)[0])
        with_.append(run(check, root, env)[0])
    _, out = run(check, root, env)
    findings = out.count('"kept":')
    print(f"`lintrank check --format json` on {args.repo} ({findings} findings, warm "
          f"cache): explanations off {statistics.median(without):.2f} s, on "
          f"{statistics.median(with_):.2f} s (median of {args.runs})")


def _timeit(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("learn", "lsp", "explain"))
    parser.add_argument("--repo", help="mirror under $LINTRANK_MIRRORS (owner+name)")
    parser.add_argument("--max-commits", type=int, default=400)
    parser.add_argument("--tools", help="learn: tools to mine with (default flake8,ruff); "
                        "lsp: the server's tools (default: the project's, flake8+pylint)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--file", default="src/click/parser.py", help="lsp: the document")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=20000, help="explain: rows scored")
    args = parser.parse_args()
    args.repo = args.repo or {"learn": "pallets+itsdangerous"}.get(args.what, "pallets+click")
    with tempfile.TemporaryDirectory(prefix="lintrank-feedback-") as tmp:
        {"learn": bench_learn, "lsp": bench_lsp, "explain": bench_explain}[args.what](args, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
