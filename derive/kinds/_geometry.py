"""Window geometry shared by conv2d, pool and network: output sizes and padding, as PyTorch computes them."""
from __future__ import annotations


def out_size(n: int, k: int, s: int, pad_total: int = 0, dilation: int = 1, ceil_mode: bool = False) -> int:
    """The positions of a window along one axis: ⌊(n + P − d·(k − 1) − 1)/s⌋ + 1 (P: padding on both sides).

    With `ceil_mode` the division rounds up, less the last window if it would start in the right padding
    (PyTorch's rule, with P split evenly between the two sides).
    """
    span = dilation * (k - 1) + 1
    if not ceil_mode:
        return (n + pad_total - span) // s + 1
    size = -(-(n + pad_total - span) // s) + 1
    if (size - 1) * s >= n + pad_total // 2:
        size -= 1
    return size


def same_padding(k: int, dilation: int = 1) -> tuple[int, int]:
    """`same` padding of one axis (stride 1): (before, after), the extra one after for an even span."""
    total = dilation * (k - 1)
    return total // 2, total - total // 2
