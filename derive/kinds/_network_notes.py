"""Kind `network`, notes on what the counts mean: a filter as large as its input is a dense layer, designs with
identical counts, where a depthwise separable network spends its multiplications."""
from __future__ import annotations

from ..solution import Solution
from . import _arch as A
from ._arch import Row
from ._network_tex import plain


def _params(rows: list[Row]) -> int:
    """A network's parameters."""
    return sum(r.params for r in rows)


def _mults(rows: list[Row]) -> int:
    """A network's multiplications."""
    return sum(r.mults for r in rows)


def full_conv(row: Row) -> bool:
    """A conv whose filter covers its whole unpadded input: one position, a dense layer in disguise."""
    layer = row.layer
    return (layer.type == "conv" and row.pads == (0, 0) and tuple(layer.kernel) == tuple(row.shape_in[:2])
            and layer.groups == 1 and layer.dilation == (1, 1))


def signature(rows: list[Row]) -> tuple:
    """What a network computes, up to the order of its weights: flatten dropped, a full-input conv as dense."""
    out = []
    for row in rows:
        layer = row.layer
        act = layer.activation or "linear"
        if layer.type == "flatten":
            continue
        if layer.type == "dense" or full_conv(row):
            out.append(("dense", layer.size, layer.bias, act) + (("per token",) if len(row.shape_in) == 2 else ()))
        elif A.is_block(layer):
            out.append((layer.type, act, tuple(signature(inner) for inner in row.children)))
        else:
            out.append(A.settings(layer, named=False))
    return tuple(out)


def notes(s: Solution, results: dict[str | None, list[Row]]) -> None:
    """Interpretations: a filter as large as its input is a dense layer; designs with identical counts;
    the shares of depthwise and pointwise convs."""
    for design, rows in results.items():
        separable_note(s, design, rows)
        for row in filter(full_conv, A.leaves(rows)):
            h, w, c = row.shape_in
            where = f"In the {plain(design)} design, the" if design else "The"
            s.note(f"{where} layer “{plain(A.describe(row.layer))}” applies {h}×{w} filters to a {h}×{w}×{c} "
                   "input without padding: each filter fits in exactly one position and sees the whole input at "
                   "once, so it computes the same weighted sums as a fully connected layer of "
                   f"{row.layer.size} units on the {h * w * c:,} flattened inputs. It is that dense layer: the "
                   f"same {row.params:,} parameters and the same {row.mults:,} multiplications. A convolution "
                   "saves parameters only when its filters are smaller than the input and share their weights "
                   "across positions; a filter as large as the input shares nothing.")
    names = [n for n in results if n is not None]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ra, rb = results[a], results[b]
            if (_params(ra), _mults(ra)) != (_params(rb), _mults(rb)):
                continue
            text = (f"The {plain(a)} and {plain(b)} designs have exactly the same counts ({_params(ra):,} "
                    f"parameters, {_mults(ra):,} multiplications): neither is cheaper in memory or in computation.")
            if signature(ra) == signature(rb):
                text += (" They are the same model written two ways: they compute the same functions (up to the "
                         "order of the weights), so neither can learn anything the other cannot.")
                if any(full_conv(r) for r in A.leaves(ra) + A.leaves(rb)):
                    text += (" The folklore that the convolutional design is cheaper does not apply here; a real "
                             "CNN for images would use small filters and pooling, and then it would be much "
                             "cheaper than a dense layer.")
            s.note(text)


def _the(n: int, what: str) -> str:
    """`the 13 depthwise convs`, `the one depthwise conv`."""
    return f"the {n} {what}s" if n != 1 else f"the one {what}"


def _share(part: int, whole: int) -> str:
    """`3.2%` of a total, one decimal."""
    return f"{100 * part / whole:.1f}%"


def separable_note(s: Solution, design: str | None, rows: list[Row]) -> None:
    """Where the multiplications of a network with depthwise convs go: depthwise, 1×1 (pointwise), the rest."""
    convs = [r for r in A.leaves(rows) if r.layer.type == "conv"]
    depthwise = [r for r in convs if r.layer.groups > 1 and r.layer.groups == r.shape_in[2]]
    pointwise = [r for r in convs if r.layer.kernel == (1, 1) and r.layer.groups == 1]
    total, params = _mults(rows), _params(rows)
    if not depthwise or not total:
        return
    dw, pw = sum(r.mults for r in depthwise), sum(r.mults for r in pointwise)
    dwp, pwp = sum(r.params for r in depthwise), sum(r.params for r in pointwise)
    where = f"In the {plain(design)} design, of" if design else "Of"
    many = len(depthwise) > 1
    s.note(f"{where} the {total:,} multiplications, {_the(len(depthwise), 'depthwise conv')} do{'' if many else 'es'} "
           f"{dw:,} ({_share(dw, total)}) and {_the(len(pointwise), 'pointwise 1×1 conv')} {pw:,} "
           f"({_share(pw, total)}); of the {params:,} parameters the depthwise conv{'s' if many else ''} "
           f"hold{'' if many else 's'} {dwp:,} ({_share(dwp, params)}) and the pointwise "
           f"conv{'s' if len(pointwise) > 1 else ''} {pwp:,} ({_share(pwp, params)}). Splitting a full $k \\times k$ conv into a depthwise "
           "and a pointwise one cuts its multiplications to $1/C_{\\text{out}} + 1/k^2$ of them, and what is "
           "left is mostly the 1×1 convs' work.")
