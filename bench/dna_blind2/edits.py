"""Edits for the second blind DNA suite: spatial transforms of a clip (n, H, W, 3) and temporal resampling."""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

Bg = Callable[[int], np.ndarray]  # n -> unrelated footage (n, H, W, 3)


def _each(frames: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.stack([fn(f) for f in frames])


def pip_small(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    area = rng.uniform(0.25, 0.30)
    H, W = c.shape[1:3]
    w, h = int(W * area ** 0.5) // 2 * 2, int(H * area ** 0.5) // 2 * 2
    corner = int(rng.integers(4))
    x0 = 8 if corner % 2 == 0 else W - w - 8
    y0 = 8 if corner < 2 else H - h - 8
    out = bg(len(c)).copy()
    for i, f in enumerate(c):
        out[i, y0:y0 + h, x0:x0 + w] = cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)
        cv2.rectangle(out[i], (x0 - 2, y0 - 2), (x0 + w + 1, y0 + h + 1), (255, 255, 255), 2)
    return out, {"area": round(area, 3), "box": [x0, y0, w, h]}


def vertical_crop916(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    H, W = c.shape[1:3]
    cw = int(H * 9 / 16)
    x0 = (W - cw) // 2 + int(rng.integers(-20, 21))
    return _each(c, lambda f: cv2.resize(f[:, x0:x0 + cw], (180, 320), interpolation=cv2.INTER_CUBIC)), {"x0": x0, "visible_width": round(cw / W, 3)}


def vertical_blur(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    H, W = c.shape[1:3]
    ow, oh = 180, 320
    fh = int(ow * H / W) // 2 * 2
    y0 = min(max((oh - fh) // 2 + int(rng.integers(-40, 41)), 0), oh - fh)

    def one(f: np.ndarray) -> np.ndarray:
        back = cv2.GaussianBlur(cv2.resize(f[:, (W - int(H * 9 / 16)) // 2:][:, :int(H * 9 / 16)], (ow, oh)), (0, 0), 12)
        back = (back * 0.6).astype(np.uint8)
        back[y0:y0 + fh] = cv2.resize(f, (ow, fh), interpolation=cv2.INTER_AREA)
        return back
    return _each(c, one), {"y0": y0}


def pad_color(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    H, W = c.shape[1:3]
    col = tuple(int(x) for x in rng.integers(0, 256, 3))
    ow, oh = (320, 240) if rng.random() < 0.5 else (576, 240)  # letterbox into 4:3 / pillarbox into 2.4:1
    k = min(ow / W, oh / H)  # fit inside (any input aspect, e.g. after a rotation)
    fw, fh = int(W * k) // 2 * 2, int(H * k) // 2 * 2
    x0, y0 = (ow - fw) // 2, (oh - fh) // 2
    out = np.empty((len(c), oh, ow, 3), np.uint8)
    out[:] = col
    for i, f in enumerate(c):
        out[i, y0:y0 + fh, x0:x0 + fw] = cv2.resize(f, (fw, fh), interpolation=cv2.INTER_AREA)
    return out, {"colour": col, "size": [ow, oh]}


def split_screen(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    H, W = c.shape[1:3]
    other = bg(len(c))
    left = bool(rng.random() < 0.5)
    mode = "squeeze" if rng.random() < 0.5 else "centre-crop"
    out = np.empty_like(c)
    for i, (f, g) in enumerate(zip(c, other)):
        if mode == "squeeze":
            a, b = cv2.resize(f, (W // 2, H)), cv2.resize(g, (W // 2, H))
        else:
            a, b = f[:, W // 4:W // 4 + W // 2], g[:, W // 4:W // 4 + W // 2]
        out[i] = np.concatenate([a, b] if left else [b, a], 1)
    return out, {"mode": mode, "copy_side": "left" if left else "right"}


def mirror_crop(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    H, W = c.shape[1:3]
    k = rng.uniform(0.6, 0.72)
    cw, ch = int(W * k), int(H * k)
    x0, y0 = int(rng.uniform(0, W - cw)), int(rng.uniform(0, H - ch))
    return _each(c, lambda f: cv2.resize(f[y0:y0 + ch, x0:x0 + cw][:, ::-1], (W, H))), {"crop": round(k, 3), "x0": x0, "y0": y0}


def lowres(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    return _each(c, lambda f: cv2.resize(f, (160, 90), interpolation=cv2.INTER_AREA)), {"size": [160, 90], "crf": 42}


def gamma_sat(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    g = float(rng.choice([0.55, 0.65, 1.6, 1.8]))
    sat = float(rng.choice([0.3, 0.5, 1.7, 2.0]))
    lut = (255 * (np.arange(256) / 255) ** g).astype(np.uint8)

    def one(f: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(lut[f], cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 1] = np.clip(hsv[..., 1] * sat, 0, 255)
        return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    return _each(c, one), {"gamma": g, "saturation": sat}


def rotate(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    k = int(rng.choice([1, 2, 3]))
    return np.ascontiguousarray(np.rot90(c, k, axes=(1, 2))), {"rotation_ccw": 90 * k}


def vflip(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    return np.ascontiguousarray(c[:, ::-1]), {}


def hflip(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    return np.ascontiguousarray(c[:, :, ::-1]), {}


def text_overlay(c: np.ndarray, rng: np.random.Generator, bg: Bg) -> tuple[np.ndarray, dict]:
    """A news ticker band at the bottom, a channel bug top-left and a semi-transparent caption."""
    H, W = c.shape[1:3]
    words = " * ".join(" ".join(rng.choice(["breaking", "market", "weather", "sports", "update", "live", "city", "report"], 3))
                       for _ in range(20)).upper()
    out = c.copy()
    for i in range(len(c)):
        f = out[i]
        f[H - 30:H] = (f[H - 30:H] * 0.2 + np.array([20, 20, 120]) * 0.8).astype(np.uint8)
        cv2.putText(f, words, (W - 3 * i, H - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.putText(f, "CH7 HD", (10, 24), cv2.FONT_HERSHEY_DUPLEX, 0.7, (255, 255, 0), 2, cv2.LINE_AA)
        ov = f.copy()
        cv2.rectangle(ov, (40, H // 2 - 20), (W - 40, H // 2 + 15), (0, 0, 0), -1)
        cv2.putText(ov, "EXCLUSIVE FOOTAGE", (60, H // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
        out[i] = cv2.addWeighted(ov, 0.5, f, 0.5, 0)
    return out, {}


SPATIAL = {f.__name__: f for f in (pip_small, vertical_crop916, vertical_blur, pad_color, split_screen, mirror_crop, lowres,
                                    gamma_sat, rotate, vflip, hflip, text_overlay)}


def resample(c: np.ndarray, speed: float = 1.0, fps_out: float = 25.0, reverse: bool = False, blend: bool = False,
             fps_in: float = 25.0) -> np.ndarray:
    """Output frame j shows source time j / fps_out * speed (reversed: from the end); ``blend`` mixes the two
    neighbouring source frames (slow motion with frame blending)."""
    dur = len(c) / fps_in
    n = max(1, int(round(dur / speed * fps_out)))
    out = np.empty((n,) + c.shape[1:], np.uint8)
    for j in range(n):
        t = j / fps_out * speed * fps_in
        if reverse:
            t = len(c) - 1 - t
        t = min(max(t, 0.0), len(c) - 1)
        a = int(np.floor(t))
        if blend and a + 1 < len(c):
            w = t - a
            out[j] = (c[a] * (1 - w) + c[a + 1] * w).astype(np.uint8)
        else:
            out[j] = c[min(int(round(t)), len(c) - 1)]
    return out


def vfr_times(dur: float, rng: np.random.Generator) -> list[float]:
    """Irregular timestamps: frame gaps of 20-160 ms with bursts of drops (variable frame rate)."""
    t, ts = 0.0, []
    while t < dur - 0.02:
        ts.append(round(t, 3))
        t += float(rng.choice([0.02, 0.033, 0.04, 0.04, 0.04, 0.08, 0.12, 0.16]))
    return ts
