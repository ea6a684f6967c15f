"""Kind `network`, the worked steps: one step per layer, blocks opened up, repeats said in one line each."""
from __future__ import annotations

from ..latex import Latex
from ..solution import Solution
from . import _arch as A
from ._arch import Row
from ._network_compact import Worked, formulas, merge_runs, one_sentence, worked_for
from ._network_lines import layer_lines, shape_line, size_lines
from ._network_rules import rules, rules_text
from ._network_tex import IN, OUT, SUM_SHOWN, dims, label, plain, product, total_line, with_words, words

__all__ = ["IN", "OUT", "SUM_SHOWN", "dims", "label", "plain", "product", "total_line", "with_words", "words",
           "layer_lines", "shape_line", "size_lines", "rules", "rules_text", "explain", "concat_lines", "add_lines"]



def explain(s: Solution, rows: list[Row], design: str | None, path: str = "Layer",
            worked: Worked | None = None) -> None:
    """One step per layer (a block: its layers, then how they combine); a repeat of earlier layers in one line.

    In a long network (past LONG_NETWORK layers) each kind of layer is worked in full once; a later layer of the
    same kind with other sizes gets one sentence of the same substitutions, so the key stays a few pages long."""
    top = worked is None and path == "Layer"
    if top:
        worked = worked_for(rows)
    names = A.names(rows)
    prints = [A.fingerprint(r) for r in rows]
    seen: dict[tuple, int] = {}
    i = 0
    while i < len(rows):
        k = seen.get(prints[i])
        if k is None:
            _explain_one(s, rows[i], names[i], design, f"{path} {i + 1}", worked)
            seen[prints[i]] = i
            i += 1
            continue
        end = _repeat(s, rows, names, prints, i, k, design, path)
        for j in range(i, end):
            seen[prints[j]] = j
        i = end
    if top and worked is not None:
        merge_runs(s, worked)


def _repeat(s: Solution, rows: list[Row], names: list[str], prints: list[tuple], i: int, k: int,
            design: str | None, path: str) -> int:
    """Rows from i on that repeat earlier ones (row k is row i's latest twin), said in one line; the end."""
    period = i - k
    j = i
    while j < len(rows) and prints[j] == prints[j - period]:
        j += 1
    word = path.lower()
    if period > 1 and j - i >= period:
        end = i + (j - i) // period * period
        times = (end - i) // period
        s.step(f"{label(design, f'{path}s {i + 1} to {end}')}: {path.lower()}s {k + 1} to {i} again",
               text=f"They are {word}s {k + 1} to {i} again" + (f", {times} times over" if times > 1 else "")
                    + ": the same shapes, parameters and multiplications.")
        return end
    end = j if period == 1 else i + 1
    row = rows[i]
    span = label(design, f"{path}s {i + 1} to {end}" if end > i + 1 else f"{path} {i + 1}")
    stage = _stage_span(rows, names, i, end, k)
    title, ref = (f"{span}: {stage[0]}", stage[1]) if stage else (f"{span}: {names[i]}", f"{word} {k + 1}")
    s.step(title, text=f"The same as {ref}: {_out(row.shape_out)} out, {_count(row.params, 'parameters')} and "
                       f"{_count(row.mults, 'multiplications')}" + (" each." if end > i + 1 else "."))
    return end


def _out(shape: tuple) -> str:
    """`28×28×512`, `16 tokens of 64 features`, or `4,096` for a flat vector (`4,096 out`)."""
    return f"{shape[0]:,}" if len(shape) == 1 else A.shape_text(shape)


def _count(n: int, what: str) -> str:
    """`1,792 parameters`, or `no parameters` (never `0 parameters`)."""
    return f"{n:,} {what}" if n else f"no {what}"


def _stage_span(rows: list[Row], names: list[str], i: int, end: int, k: int) -> tuple[str, str] | None:
    """For blocks of one named stage: (`layer3, blocks 3–6`, `block 2`), else None."""
    labels = {rows[j].layer.label for j in range(k, end)}
    if len(labels) != 1 or None in labels or names[i] == A.describe(rows[i].layer):
        return None
    stage = rows[i].layer.label
    first, last, ref = (names[j].rpartition(" ")[2] for j in (i, end - 1, k))
    blocks = f"blocks {first}–{last}" if end > i + 1 else f"block {first}"
    return f"{plain(stage)}, {blocks}", f"block {ref}"


def _explain_one(s: Solution, row: Row, name: str, design: str | None, path: str, worked: Worked | None) -> None:
    """One layer's step, or a block's steps."""
    where = label(design, path)
    if row.layer.type == "branches":
        _explain_branches(s, row, name, design, where, path, worked)
    elif row.layer.type == "residual":
        _explain_residual(s, row, name, design, where, path, worked)
    elif worked is not None and formulas(row) in worked.first:
        one_sentence(s, worked, where, name, layer_lines(row)[0], row)
    else:
        lines, text = layer_lines(row)
        s.step(f"{where}: {name}", *lines, text=text)
        if worked is not None:
            worked.first[formulas(row)] = where[0].lower() + where[1:]


def _explain_branches(s: Solution, row: Row, name: str, design: str | None, where: str, path: str,
                      worked: Worked | None) -> None:
    """A branches block: what it does, each branch's layers, then the concatenation."""
    n = len(row.children)
    s.step(f"{where}: {name}",
           text=f"{n} branches each take the same {A.shape_text(row.shape_in)} input; their outputs are stacked "
                "along the " + ("channels, so their heights and widths must agree." if len(row.shape_in) == 3
                                else "features."))
    for b, branch in enumerate(row.children, 1):
        explain(s, branch, design, f"{path}, branch {b}, layer", worked)
    s.step(f"{where}: the concatenation", *concat_lines(row))


def _explain_residual(s: Solution, row: Row, name: str, design: str | None, where: str, path: str,
                      worked: Worked | None) -> None:
    """A residual block: what it does, the main path's layers, the shortcut's, then the addition."""
    main, short = row.children
    after = f", then {row.layer.activation} is applied" if row.layer.activation else ""
    how = (f"a shortcut of {len(short)} layer{'s' if len(short) > 1 else ''}" if short
           else "the identity shortcut (the input itself, nothing to learn)")
    s.step(f"{where}: {name}",
           text=f"The main path ({len(main)} layer{'s' if len(main) > 1 else ''}) and {how} both take the "
                f"block's input ({A.shape_text(row.shape_in)}); their outputs are added number by number{after}. "
                "The addition multiplies nothing.")
    explain(s, main, design, f"{path}, main path, layer", worked)
    if short:
        explain(s, short, design, f"{path}, shortcut, layer", worked)
    s.step(f"{where}: the addition", *add_lines(row))


def concat_lines(row: Row) -> list[Latex]:
    """Shape as the sum of channels; counts as sums over the branches."""
    outs = [rows[-1].shape_out for rows in row.children]
    last = Latex("(" + " + ".join(str(product(o[-1])) for o in outs) + ")")
    head = dims(row.shape_out[:-1]) + (r" \times " if len(row.shape_out) == 3 else "")
    shape = Latex(r"\text{shape} = %s%s = %s" % (head, last, dims(row.shape_out)))
    return [shape] + _sums(row)


def add_lines(row: Row) -> list[Latex]:
    """Both shapes, the sum's; counts as sums over the main path and the shortcut."""
    main, short = row.children
    other = short[-1].shape_out if short else row.shape_in
    shape = Latex(r"\text{shape: } %s + %s \;\to\; %s" % (dims(main[-1].shape_out), dims(other),
                                                         dims(row.shape_out)))
    return [shape] + _sums(row)


def _sums(row: Row) -> list[Latex]:
    """params = … and mult = … summed over a block's inner layers."""
    inner = [r for rows in row.children for r in rows]
    return [total_line(r"\text{params}", [r.params for r in inner], row.params),
            total_line(r"\text{mult}", [r.mults for r in inner], row.mults)]
