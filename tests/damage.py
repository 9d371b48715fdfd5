"""Byte damage for the fuzz tests: some bytes overwritten, then the file cut short."""

from hypothesis import strategies as st

# (position, new byte) pairs; positions wrap around the file's length
MUTATIONS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6)


def damaged(blob: bytes, mutations, keep: int) -> bytes:
    """``blob`` with each (position, value) of ``mutations`` written, cut to ``keep`` bytes."""
    out = bytearray(blob)
    for position, value in mutations:
        out[position % len(out)] = value
    return bytes(out[:keep])
