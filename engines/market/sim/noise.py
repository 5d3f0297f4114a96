"""Counter-based noise: random bits as a pure function of (key, counter, salt).

A stream generator would make a value depend on how many were drawn before it; a hash does not. So an
instrument's spread at 11:02:07 is the same whether a feed started at the open or resumed at 11:00, and
whatever else it quotes; and a day's overnight gap is the same whichever later day asks for it.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TWO_53 = 1.0 / 9007199254740992.0


def key_of(text: str) -> int:
    """A 64-bit key for the noise of one named thing (stable across processes, unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def hashed(keys: U64, counters: U64, salt: int) -> U64:
    """64 noise bits per (counter, key): shape (len(counters), len(keys)). SplitMix64's finaliser."""
    with np.errstate(over="ignore"):
        x = keys[None, :] + (counters[:, None] + np.uint64(salt << 32)) * _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    result: U64 = x ^ (x >> np.uint64(31))
    return result


def hashed_levels(keys: U64, counters: U64, salt: int, levels: int) -> U64:
    """`hashed` for salts salt .. salt+levels-1 at once: shape (len(counters), len(keys), levels)."""
    salts: U64 = np.array([(salt + level) << 32 for level in range(levels)], dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = keys[None, :, None] + (counters[:, None, None] + salts[None, None, :]) * _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    result: U64 = x ^ (x >> np.uint64(31))
    return result


def uniform(bits: U64) -> FloatArray:
    """Uniform on [0, 1) from the top 53 bits."""
    result: FloatArray = (bits >> np.uint64(11)).astype(np.float64) * _TWO_53
    return result


def field(bits: U64, shift: int, width: int) -> I64:
    """`width` bits from `shift` up, as an int in [0, 2**width)."""
    result: I64 = ((bits >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.int64)
    return result


def unit(bits: U64, shift: int, width: int) -> FloatArray:
    """`width` bits from `shift` up, as a float in [0, 1)."""
    result: FloatArray = field(bits, shift, width).astype(np.float64) * (1.0 / (1 << width))
    return result


def normal(keys: U64, counters: U64, salt: int) -> FloatArray:
    """Standard normals per (counter, key), by Box-Muller from two hashed uniforms."""
    u1 = 1.0 - uniform(hashed(keys, counters, salt))  # (0, 1]: the log stays finite
    u2 = uniform(hashed(keys, counters, salt + 1))
    result: FloatArray = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return result
