"""CRC-64/ECMA-182 as OSS reports it in ``x-oss-hash-crc64ecma`` (reflected, init 0, xorout all ones),
with ``combine`` for a multipart object (the CRC of A+B from crc(A), crc(B) and len(B), as zlib's
crc32_combine does it: GF(2) matrix squaring), so completing an upload does not re-read the parts."""

from __future__ import annotations

import crcmod

POLY = 0x142F0E1EBA9EA3693
_REVERSED = 0xC96C5795D7870F42  # the reflected polynomial without its x^64 term
_MASK = 0xFFFFFFFFFFFFFFFF


class Crc64:
    """Incremental CRC-64/ECMA (crcmod's C extension when available)."""

    def __init__(self) -> None:
        self._c = crcmod.Crc(POLY, initCrc=0, rev=True, xorOut=_MASK)

    def update(self, data: bytes | memoryview) -> None:
        self._c.update(bytes(data) if isinstance(data, memoryview) else data)

    @property
    def value(self) -> int:
        return int(self._c.crcValue)


def crc64(data: bytes) -> int:
    c = Crc64()
    c.update(data)
    return c.value


def _times(mat: list[int], vec: int) -> int:
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _square(mat: list[int]) -> list[int]:
    return [_times(mat, mat[n]) for n in range(64)]


def combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC of the concatenation A+B given crc(A), crc(B) and len(B)."""
    if len2 <= 0:
        return crc1
    odd = [_REVERSED] + [1 << n for n in range(63)]  # operator for one zero bit
    even = _square(odd)  # two zero bits
    odd = _square(even)  # four zero bits
    while True:
        even = _square(odd)  # first pass: one zero byte
        if len2 & 1:
            crc1 = _times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _square(even)
        if len2 & 1:
            crc1 = _times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return (crc1 ^ crc2) & _MASK
