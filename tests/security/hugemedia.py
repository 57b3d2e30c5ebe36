"""A tiny H.264 file that claims a huge resolution: a few KB on disk, gigabytes if decoded naively.

Encodes a small clip (raw Annex-B H.264, baseline profile) with PyAV, then rewrites its sequence
parameter set to say ``width``×``height``: the decoder allocates full frames of that size (the slices
cover only the first macroblocks and the rest is concealed), which is what an attacker's file does.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av


class _Bits:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)

    def rest(self) -> list[int]:
        out = []
        while self.pos < len(self.data) * 8:
            out.append(self.u(1))
        return out


class _Writer:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, v: int) -> None:
        self.bits.extend((v >> (n - 1 - i)) & 1 for i in range(n))

    def ue(self, v: int) -> None:
        x = v + 1
        n = x.bit_length()
        self.u(n - 1, 0)
        self.u(n, x)

    def bytes(self) -> bytes:
        bits = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(rbsp: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _rewrite_sps(nal: bytes, width: int, height: int) -> bytes:
    r = _Bits(_unescape(nal[1:]))
    w = _Writer()
    profile = r.u(8)
    w.u(8, profile)
    w.u(8, r.u(8))  # constraint flags
    w.u(8, r.u(8))  # level
    w.ue(r.ue())  # sps id
    assert profile == 66, "baseline profile expected"
    w.ue(r.ue())  # log2_max_frame_num_minus4
    poc_type = r.ue()
    w.ue(poc_type)
    if poc_type == 0:
        w.ue(r.ue())
    assert poc_type in (0, 2)
    w.ue(r.ue())  # max_num_ref_frames
    w.u(1, r.u(1))  # gaps allowed
    r.ue()
    r.ue()  # old size
    mbs_w, mbs_h = -(-width // 16), -(-height // 16)
    w.ue(mbs_w - 1)
    w.ue(mbs_h - 1)
    frame_mbs_only = r.u(1)
    assert frame_mbs_only == 1
    w.u(1, 1)
    w.u(1, r.u(1))  # direct_8x8_inference
    if r.u(1):  # old cropping
        for _ in range(4):
            r.ue()
    crop_r, crop_b = (mbs_w * 16 - width) // 2, (mbs_h * 16 - height) // 2
    if crop_r or crop_b:
        w.u(1, 1)
        for v in (0, crop_r, 0, crop_b):
            w.ue(v)
    else:
        w.u(1, 0)
    w.bits.extend(r.rest())  # VUI and the RBSP trailing bits, unchanged
    while w.bits and w.bits[-1] == 0:  # re-align the stop bit
        w.bits.pop()
    return nal[:1] + _escape(w.bytes())


def make_huge_h264(path: Path, width: int = 15000, height: int = 15000, frames: int = 4) -> Path:
    """Write a raw H.264 stream that declares ``width``×``height``; returns ``path``."""
    small = path.with_suffix(".small.h264")
    c = av.open(str(small), "w", format="h264")
    s = c.add_stream("libx264", rate=25)
    s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
    s.options = {"preset": "ultrafast", "profile": "baseline", "crf": "40"}
    for i in range(frames):
        f = av.VideoFrame(64, 64, "yuv420p")
        f.pts, f.time_base = i, Fraction(1, 25)
        for p in s.encode(f):
            c.mux(p)
    for p in s.encode():
        c.mux(p)
    c.close()
    data = small.read_bytes()
    small.unlink()
    out = bytearray()
    parts = data.split(b"\x00\x00\x01")
    for i, nal in enumerate(parts):
        if i == 0:
            out += nal
            continue
        trail = b""
        if nal.endswith(b"\x00"):  # the leading zero of a 4-byte start code belongs to the next NAL
            trail = b"\x00"
            nal = nal[:-1]
        if nal and nal[0] & 0x1F == 7:
            nal = _rewrite_sps(nal, width, height)
        out += b"\x00\x00\x01" + nal + trail
    path.write_bytes(bytes(out))
    return path


def make_huge_flv(path: Path, width: int = 15000, height: int = 15000) -> Path:
    """The same stream in FLV, a container whose streams appear only while packets are read."""
    raw = make_huge_h264(path.with_suffix(".tmp.h264"), width, height)
    src = av.open(str(raw), stream_options=[{"skip_frame": "all"}])
    out = av.open(str(path), "w", format="flv")
    ost = out.add_stream_from_template(src.streams.video[0])
    for k, p in enumerate(src.demux(src.streams.video[0])):
        if not p.size:
            continue
        p.pts = p.dts = k * 40
        p.time_base = Fraction(1, 1000)
        p.stream = ost
        out.mux(p)
    out.close()
    src.close()
    raw.unlink()
    return path
