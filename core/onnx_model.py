"""Load and validate ONNX reward models: one lazily created session per process."""
from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from lintrank.core.exceptions import LintrankWarning, ModelError
from lintrank.core.features import N_FEATURES, schema_id

META_SCHEMA = "lintrank.schema"
META_NAME = "lintrank.model_name"
META_KIND = "lintrank.kind"
META_THRESHOLD = "lintrank.default_threshold"
#: ``model.kind`` in every report when the baseline stands in for an unusable model.
FALLBACK_KIND = "fallback-baseline"
#: Batches at least this long are scored in parts on several threads (see predict).
PARALLEL_ROWS = 2048
_PART_ROWS = 1024  # the smallest part worth a thread's hand-off


class ModelFallbackWarning(LintrankWarning):
    """The configured model was unusable and the baseline scored instead."""


@dataclasses.dataclass
class RewardModel:
    """A validated model: metadata plus a lazily created inference session."""

    path: str
    sha256: str
    name: str
    kind: str
    default_threshold: float
    _session: object = dataclasses.field(default=None, repr=False)
    _output: str = ""

    def info(self) -> dict[str, str]:
        """What reporters and `lintrank debug` show about the model."""
        return {"name": self.name, "sha256": self.sha256, "kind": self.kind,
                "path": self.path}

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Score a float32 matrix of shape (n, N_FEATURES); big batches in parts on threads."""
        if rows.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        workers = _cores()
        if rows.shape[0] < PARALLEL_ROWS or workers < 2:
            return self._run(rows)
        # Every batch is scored after the analyzers have finished, when the cores are
        # idle: a run's findings (2,819 rows of a flake8 run: 15.7 ms on one thread,
        # 9.5 ms in two parts on 2 cores) and an explanation's ablations (75,000 rows
        # for 3,000 findings). The session runs on one thread (see load_model) but
        # may be called from several at once, and onnxruntime releases the GIL: four
        # parts per core measured 1.9x faster on 2 cores than one call.
        parts = np.array_split(rows, min(4 * workers, rows.shape[0] // _PART_ROWS))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return np.concatenate(list(pool.map(self._run, parts)))

    def _run(self, rows: np.ndarray) -> np.ndarray:
        session = self._session
        out = session.run([self._output], {session.get_inputs()[0].name: rows})[0]
        out = np.asarray(out, dtype=np.float64)
        # Classifiers export probabilities (n, 2); regressors/rankers (n,) or (n, 1).
        scores = out[:, -1] if out.ndim == 2 and out.shape[1] > 1 else out.reshape(-1)
        return np.clip(np.nan_to_num(scores, nan=0.0), 0.0, 1.0)


@functools.lru_cache(maxsize=1)
def _cores() -> int:
    """CPUs this process may use (its affinity, not the machine's count), at most 8."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        count = os.cpu_count() or 1
    return max(1, min(count, 8))


def file_sha256(path: str) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def load_model(path: str) -> RewardModel:
    """Load ``path`` once per process; raise :class:`ModelError` with a fix hint."""
    import onnxruntime as ort  # perf: import only when something is scored

    hint = "pass --model with a model built by `lintrank train`, or reinstall lintrank"
    if not os.path.isfile(path):
        problem = "not a regular file" if os.path.exists(path) else "file not found"
        raise ModelError(path, problem, hint)
    sha = file_sha256(path)
    _check_manifest(path, sha)
    options = ort.SessionOptions()
    # One thread: lintrank already runs analyzers in parallel, and tree models
    # score 100k rows/s on one core; more threads only add contention.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(path, f"not a valid ONNX model ({str(exc).splitlines()[0]})",
                         hint) from exc
    meta = session.get_modelmeta().custom_metadata_map
    found = meta.get(META_SCHEMA)
    if found != schema_id():
        raise ModelError(path, f"feature schema {found!r} does not match this lintrank's "
                         f"{schema_id()!r}", "retrain it with this version's `lintrank "
                         "train`, or use the lintrank version it was built with")
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].shape[-1] not in (N_FEATURES, None, "N"):
        raise ModelError(path, f"expects input {inputs[0].shape}, not (n, {N_FEATURES})")
    outputs = [o.name for o in session.get_outputs()]
    output = next((o for o in ("score", "probabilities", "variable") if o in outputs),
                  outputs[-1])
    model = RewardModel(path=path, sha256=sha, name=meta.get(META_NAME, Path(path).stem),
                        kind=meta.get(META_KIND, "learned"),
                        default_threshold=float(meta.get(META_THRESHOLD, "0.5")))
    model._session, model._output = session, output
    return model


def _check_manifest(path: str, sha: str) -> None:
    """Verify the hash recorded beside the model (``NAME.json``), when one exists."""
    manifest = Path(path).with_suffix(".json")
    if not manifest.is_file():
        return
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        recorded = doc["sha256"]
        accepted = accepted_hashes(doc)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(path, f"its manifest {manifest} is unreadable") from exc
    if sha not in accepted:
        raise ModelError(path, f"sha256 {sha[:12]}... differs from {recorded[:12]}... "
                         f"recorded in {manifest.name}: the file was changed or "
                         "truncated", "reinstall lintrank or rebuild the model")


def accepted_hashes(manifest: dict) -> set[str]:
    """Hashes a manifest vouches for: ``sha256``, plus ``accepted`` while a
    `lintrank train` replaces the model (either side of the swap is valid)."""
    extra = manifest.get("accepted", [])
    if not isinstance(extra, list):
        raise TypeError("accepted must be a list")
    return {str(manifest["sha256"]), *(str(h) for h in extra)}


def load_or_fallback(path: str, allow: bool, pinned: str | None = None) -> RewardModel:
    """:func:`load_model`, or with ``allow`` the severity baseline in its place.

    ``pinned`` (``model_sha256`` in the configuration, a one-line lockfile) must
    equal the model's sha256. The substitution is never silent: a warning names the
    model and the reason, and the returned model's ``kind`` is :data:`FALLBACK_KIND`.
    """
    try:
        model = load_model(path)
        if pinned and model.sha256 != pinned.strip().lower():
            raise ModelError(path, f"sha256 {model.sha256[:12]}... differs from "
                             f"model_sha256 {pinned.strip()[:12]}... pinned in the "
                             "configuration", "check the new model, then update "
                             "model_sha256; or restore the pinned model")
        return model
    except ModelError as exc:
        if not allow:
            raise
        try:
            baseline = _baseline()
        except ModelError as again:
            raise ModelError(path, f"{exc.problem}; the baseline fallback failed too "
                             f"({again.problem})", exc.hint) from exc
        warnings.warn(ModelFallbackWarning(
            f"{exc.path}: {exc.problem}; scoring with the baseline model instead "
            "(model_fallback is on)"), stacklevel=2)
        return dataclasses.replace(baseline, kind=FALLBACK_KIND)


@functools.lru_cache(maxsize=1)
def _baseline() -> RewardModel:
    """The shipped model when it is the baseline, else one built for this schema."""
    from lintrank.models import DEFAULT_MODEL, MODELS_DIR

    for candidate in (MODELS_DIR / "baseline.onnx", DEFAULT_MODEL):
        if candidate.is_file():
            try:
                model = load_model(str(candidate))
            except ModelError:
                continue
            if model.kind == "baseline":
                return model
    from lintrank.core.baseline import build  # needs the `onnx` package (train extra)

    folder = _scratch()
    out = os.path.join(folder.name, "baseline.onnx")
    try:
        build(out)
    except ImportError as exc:
        raise ModelError(out, f"cannot build the baseline ({exc})",
                         "pip install 'lintrank[train]'") from exc
    return load_model(out)


@functools.lru_cache(maxsize=1)
def _scratch() -> tempfile.TemporaryDirectory:
    """A process-lifetime folder for a model built on the fly (removed at exit)."""
    return tempfile.TemporaryDirectory(prefix="lintrank-baseline-")
