"""Kind `network`, the summaries: each network's totals and table, designs compared, notes on what they mean."""
from __future__ import annotations

import sympy

from ..latex import Latex, chain, decimal, decimal_text, group_int
from ..problem import Problem
from ..prose import escape
from ..solution import Solution
from . import _arch as A
from ._arch import Row
from ._network_tex import dims, plain, total_line, words


def totals(s: Solution, rows: list[Row], design: str | None) -> None:
    """The network's totals and its summary table."""
    params, mults = sum(r.params for r in rows), sum(r.mults for r in rows)
    s.step(f"Totals for {design}" if design else "Totals",
           total_line(r"\text{params}", [r.params for r in rows], params),
           total_line(r"\text{mult}", [r.mults for r in rows], mults),
           text=f"The output is {A.shape_text(rows[-1].shape_out)}.", figure=summary_table(rows))


# ---- tables ------------------------------------------------------------------------------------------

def _cell(n: int) -> str:
    """A count in a table cell."""
    return f"${group_int(n)}$"


TABLE_ROWS = 12        # rows of one tabular at most: a longer summary continues in the next, so a page break
                       # (a tabular cannot break) leaves little blank
DESIGN_COLUMNS = 4     # designs side by side in one comparison table


def summary_table(rows: list[Row]) -> Latex:
    """A torchinfo-like summary: layer, output shape, parameters, multiplications. Past TABLE_ROWS it is set as
    several tabulars with the same fixed column widths, split between top-level layers, read as one table."""
    body = [[rf"input & ${dims(rows[0].shape_in)}$ & & \\"]] + _grouped_rows(rows, 0)
    total = rf"total & ${dims(rows[-1].shape_out)}$ & {_cell(_params(rows))} & {_cell(_mults(rows))} \\"
    chunks = _chunks(body)
    columns = _columns(rows)
    tables = []
    for n, chunk in enumerate(chunks):
        lines = [r"\begin{tabular}{@{}%s@{}}" % columns]
        if n == 0:
            lines += [r"\toprule", r"Layer & Output shape & Parameters & Multiplications \\", r"\midrule"]
        lines += chunk
        if n == len(chunks) - 1:
            lines += [r"\midrule", total, r"\bottomrule"]
        tables.append("\n".join(lines + [r"\end{tabular}"]))
    return Latex("\n\\par\n".join(tables))


def _chunks(groups: list[list[str]]) -> list[list[str]]:
    """Table rows in chunks of about equal length, at most TABLE_ROWS unless one layer's rows are more."""
    total = sum(len(g) for g in groups)
    target = -(-total // -(-total // TABLE_ROWS))
    chunks: list[list[str]] = [[]]
    for group in groups:
        if chunks[-1] and (len(chunks[-1]) >= target or len(chunks[-1]) + len(group) > TABLE_ROWS):
            chunks.append([])
        chunks[-1].extend(group)
    return chunks


def _columns(rows: list[Row]) -> str:
    """Fixed widths (every chunk alike): the numbers' columns as wide as their longest cell, the names the rest."""
    every = A.leaves(rows)
    shapes = [dims(r.shape_out) for r in every] + [dims(rows[0].shape_in), "Output shape"]
    params = [group_int(r.params) for r in every] + [group_int(_params(rows)), "Parameters"]
    mults = [group_int(r.mults) for r in every] + [group_int(_mults(rows)), "Multiplications"]
    widths = [max(_ems(c) for c in cells) + 0.5 for cells in (shapes, params, mults)]
    name = r"p{\dimexpr\linewidth-%.1fem-6\tabcolsep\relax}" % sum(widths)
    return r">{\raggedright\arraybackslash}" + name + "".join(
        r">{\raggedleft\arraybackslash}p{%.1fem}" % w for w in widths)


def _ems(cell: str) -> float:
    """A rough width in em of a cell's text: digits and letters half an em, × and thin commas their own."""
    text = str(cell)
    times = text.count(r"\times")
    commas = text.count("{,}")
    rest = text.replace(r"\times", "").replace("{,}", "").replace(" ", "")
    return 0.5 * len(rest) + 1.6 * times + 0.3 * commas


def _table_rows(rows: list[Row], depth: int, hang: bool = True) -> list[str]:
    """One table row per layer; a block's layers follow it, indented (a block repeating an earlier one: one row)."""
    return [line for group in _grouped_rows(rows, depth, hang) for line in group]


def _grouped_rows(rows: list[Row], depth: int, hang: bool = True) -> list[list[str]]:
    """The table rows of each layer: its own, then (a block) its layers indented."""
    out, seen = [], {}
    names = A.names(rows)
    for i, (row, name) in enumerate(zip(rows, names)):
        twin = seen.setdefault(A.fingerprint(row), i) if row.children else i
        shown = escape(name) + (rf" \textit{{(as {escape(_short_ref(names[twin], name))})}}" if twin != i else "")
        group = [rf"{_indent(depth, hang)}{shown} & ${dims(row.shape_out)}$ & {_cell(row.params)} & "
                 rf"{_cell(row.mults)} \\"]
        out.append(group)
        if twin != i:
            continue
        if row.layer.type == "residual":
            group += _residual_rows(row, depth, hang)
            continue
        for b, branch in enumerate(row.children, 1):
            group.append(rf"\hspace*{{{depth + 1}em}}\textit{{branch {b}}} & & & \\")
            group += _table_rows(branch, depth + 2, hang)
    return out


def _indent(depth: int, hang: bool) -> str:
    """A name's indent in the table, its depth in blocks (`hang`: a wrapped name's next lines indented further)."""
    shift = rf"\hspace*{{{depth}em}}" if depth else ""
    return rf"\hangindent={depth + 1}em\hangafter=1 {shift}" if hang else shift


def _short_ref(twin: str, name: str) -> str:
    """`block 2` for a block of the same stage, `above` for a twin of the same name, else the twin's name."""
    stage, _, _ = name.rpartition(", block ")
    if stage and twin.startswith(stage + ", block "):
        return twin[len(stage) + 2:]
    return "above" if twin == name else twin


def _residual_rows(row: Row, depth: int, hang: bool) -> list[str]:
    """A residual block drawn as its main path, its shortcut and the addition ⊕."""
    main, short = row.children
    pad = _indent(depth + 1, hang)
    out = [rf"{pad}\textit{{main path}} & & & \\"] + _table_rows(main, depth + 2, hang)
    if short:
        out += [rf"{pad}\textit{{shortcut}} & & & \\"] + _table_rows(short, depth + 2, hang)
    else:
        out.append(rf"{pad}\textit{{shortcut: identity}} & & & \\")
    after = f", then {escape(row.layer.activation)}" if row.layer.activation else ""
    out.append(rf"{pad}$\oplus$ main path + shortcut{after} & ${dims(row.shape_out)}$ & & \\")
    return out


def compare_table(results: dict[str, list[Row]]) -> Latex:
    """One column per design (DESIGN_COLUMNS to a table): layers, shape, parameters, multiplications, ratio."""
    names = list(results)
    base = _mults(results[names[0]])
    groups = [names[i:i + DESIGN_COLUMNS] for i in range(0, len(names), DESIGN_COLUMNS)]
    return Latex("\n\\par\\medskip\n".join(_compare_part(results, group, names[0], base) for group in groups))


def _compare_part(results: dict[str, list[Row]], group: list[str], first: str, base: int) -> str:
    """The comparison table for some of the designs."""
    nets = [results[n] for n in group]
    body = [("Layers", [str(sum(not A.is_block(r.layer) for r in A.leaves(rows))) for rows in nets]),
            ("Output shape", [f"${dims(rows[-1].shape_out)}$" for rows in nets]),
            ("Parameters", [_cell(_params(rows)) for rows in nets]),
            ("Multiplications", [_cell(_mults(rows)) for rows in nets]),
            ("", [f"${words(_mults(rows))}$" if words(_mults(rows)) else "" for rows in nets])]
    if not any(body[-1][1]):
        body.pop()
    if len(results) > 1:
        body.append((f"Multiplications vs.\\ {escape(first)}",
                     ["---" if n == first else _versus(base, _mults(results[n])) for n in group]))
    head = " & ".join(escape(n) for n in group)
    lines = [r"\begin{tabular}{@{}l" + "r" * len(group) + "@{}}", r"\toprule", rf" & {head} \\", r"\midrule"]
    lines += [rf"{name} & {' & '.join(cells)} \\" for name, cells in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)


def _versus(base: int, this: int) -> str:
    """`$7.20\\times$ fewer` for a table cell."""
    text = relation(base, this)
    return escape(text).replace(r"\ensuremath{\times}", r"$\times$")


def _params(rows: list[Row]) -> int:
    """A network's parameters."""
    return sum(r.params for r in rows)


def _mults(rows: list[Row]) -> int:
    """A network's multiplications."""
    return sum(r.mults for r in rows)


# ---- designs compared --------------------------------------------------------------------------------

def relation(base: int, this: int) -> str:
    """`7.20× fewer`, `2.50× more`, `0.10% more` (a ratio that would print as 1.00×), or `the same`."""
    if base == this:
        return "the same"
    more = "fewer" if this < base else "more"
    if this == 0 or base == 0:
        return more
    ratio = sympy.Rational(base, this) if this < base else sympy.Rational(this, base)
    if decimal_text(ratio, 3) == "1.00":
        return f"{decimal_text(abs(sympy.Rational(this - base, base)) * 100, 2)}% {more}"
    return f"{decimal_text(ratio, 3)}× {more}"


def _than(base: int, this: int) -> str:
    """`7.20× fewer than`, `0.10% more than`, `the same as`."""
    text = relation(base, this)
    return text + (" as" if text == "the same" else " than")


def compare(s: Solution, p: Problem, results: dict[str, list[Row]]) -> None:
    """The side-by-side table, and each design's savings against the first as an exact ratio and a percentage."""
    names = list(results)
    first = names[0]
    b_mult, b_par = _mults(results[first]), _params(results[first])
    lines, sentences = [], []
    for name in names[1:]:
        mult, par = _mults(results[name]), _params(results[name])
        sentences.append(f"The {plain(name)} design needs {mult:,} multiplications, {_than(b_mult, mult)} "
                         f"the {plain(first)} design ({b_mult:,}), and has {par:,} parameters, "
                         f"{_than(b_par, par)} it ({b_par:,}).")
        if mult and b_mult and mult != b_mult:
            lines += ratio_lines(first, name, b_mult, mult, p.digits)
    s.step("The designs side by side", *lines, text=" ".join(sentences), figure=compare_table(results))
    shapes = {tuple(rows[-1].shape_out) for rows in results.values()}
    if len(shapes) == 1:
        s.check(f"{'Both' if len(names) == 2 else f'All {len(names)}'} designs give the same output shape, "
                f"{A.shape_text(shapes.pop())}.")


def ratio_lines(first: str, name: str, b_mult: int, mult: int, digits: int) -> list[Latex]:
    """The larger count over the smaller as an exact ratio, and the share saved (or added) as a percentage."""
    a, b = rf"\text{{mult}}_{{\text{{{escape(first)}}}}}", rf"\text{{mult}}_{{\text{{{escape(name)}}}}}"
    (top, bottom), (n, d) = ((a, b), (b_mult, mult)) if mult < b_mult else ((b, a), (mult, b_mult))
    frac = Latex(r"\frac{%s}{%s}" % (group_int(n), group_int(d)))
    out = [chain(Latex(r"\frac{%s}{%s}" % (top, bottom)), frac, sympy.Rational(n, d), approx_digits=digits)]
    change = 1 - sympy.Rational(mult, b_mult)
    word = r"\text{saved}" if change > 0 else r"\text{added}"
    line = chain(Latex(word), Latex(r"%s\frac{%s}{%s}" % ("1 - " if change > 0 else "", group_int(mult),
                                                          group_int(b_mult)) + ("" if change > 0 else " - 1")),
                 abs(change))
    out.append(Latex(line + r" %s %s\,\%%" % ("=" if (abs(change) * 100).is_integer else r"\approx",
                                             decimal(abs(change) * 100, digits))))
    return out
