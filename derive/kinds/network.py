"""Kind `network`: output shapes, parameters and multiplications of whole architectures; designs compared.

The worked steps live in `_network_steps`, the summaries and comparisons in `_network_tables`, the slips in
`_network_slips`; the layer language and the exact counting in `_arch`.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import sympy

from .. import fields as F
from ..kind import AnswerSpec, Kind, delegate
from ..problem import Problem
from ..prose import escape
from ..slipkit import Slip
from ..solution import Solution
from . import _arch as A
from ._arch import Row, all_layers, networks
from ._network_arch_slips import (attention_scores_left_out, dilated_taps, grouped_as_full, shortcut_left_out,
                                  transposed_as_conv)
from ._network_np import recompute
from ._network_sheet import input_entry, sheet_entries
from ._network_published import check_published, parse_published, state_published
from ._network_slips import bias_count, missing_term, network_off_by_one
from ._network_steps import (concat_lines, dims, explain, label, layer_lines, plain, product, rules, rules_text,
                             size_lines, total_line, with_words, words)
from ._network_notes import full_conv, notes, signature
from ._network_tables import compare, compare_table, ratio_lines, relation, summary_table, totals

__all__ = ["FIELDS", "KIND", "Network", "networks", "validate", "answers", "solve", "recompute",
           # the pieces of the worked solution, kept importable from here
           "all_layers", "dims", "product", "words", "with_words", "plain", "label", "rules", "rules_text",
           "size_lines", "layer_lines", "explain", "concat_lines", "total_line", "totals", "summary_table",
           "compare_table", "relation", "compare", "ratio_lines", "full_conv", "signature", "notes"]

FIELDS = F.table(
    input=F.Field(A.parse_input, required=True),
    layers=F.Field(A.parse_layers),
    designs=F.Field(A.parse_designs),
    published=F.Field(parse_published),
)


def validate(p: Problem) -> None:
    """Exactly one of layers and designs; every layer fits the shape it receives."""
    if p.fields.layers is not None and p.fields.designs is not None:
        raise p.error("designs", "give either layers (one network) or designs (several to compare), not both")
    if p.fields.layers is None and p.fields.designs is None:
        raise p.error("layers", "required (or designs, to compare several networks)")
    check_published(p, {design: A.trace(p.fields.input, layers) for design, layers in networks(p).items()})


def answers(s: Solution, rows: list[Row], design: str | None) -> None:
    """`layers`, `output_shape`, `params`, `multiplications` (prefixed `<design>.` in a comparison)."""
    prefix = f"{design}." if design else ""
    sub = rf"_{{\text{{{escape(design)}}}}}" if design else ""
    entries = [{"name": name, "output_shape": list(r.shape_out), "params": r.params, "multiplications": r.mults}
               for name, r in zip(A.names(rows), rows)]
    s.answer(prefix + "layers", entries)
    s.answer(prefix + "output_shape", list(rows[-1].shape_out), symbol=r"\text{output shape}" + sub)
    s.answer(prefix + "params", sum(r.params for r in rows), symbol=r"\text{params}" + sub)
    s.answer(prefix + "multiplications", sum(r.mults for r in rows), symbol=r"\text{multiplications}" + sub)


def solve(p: Problem) -> Solution:
    """Per layer: output size, parameters and multiplications; totals; with designs, the comparison."""
    s = Solution(p)
    nets = networks(p)
    every = [layer for layers in nets.values() for layer in all_layers(layers)]
    traced = {design: A.trace(p.fields.input, layers) for design, layers in nets.items()}
    sequences = any(len(r.shape_in) == 2 for rows in traced.values() for r in A.leaves(rows))
    s.step("What is counted", *rules(every, sequences), text=rules_text(every, sequences))
    results = {}
    for design, rows in traced.items():
        explain(s, rows, design)
        totals(s, rows, design)
        results[design] = rows
    for design, rows in results.items():
        answers(s, rows, design)
    if p.fields.designs is not None and len(results) > 1:
        compare(s, p, results)
    notes(s, results)
    if p.fields.designs is None:
        state_published(s, p, traced[None])
    return s


class Network(Kind):
    """Output shapes, parameters and multiplications of whole architectures; designs compared."""

    name = "network"
    summary = "output shapes, parameters and multiplications of a network's layers; designs compared"
    fields = FIELDS
    answers = {"layers": AnswerSpec(count=True),
               "output_shape": AnswerSpec(count=True, shape=True, depends=("layers",)),
               "params": AnswerSpec(count=True, depends=("layers",)),
               "multiplications": AnswerSpec(count=True, depends=("layers",))}
    slips = (
        Slip("bias_count", "bias left out of (or added to) a parameter count", bias_count),
        Slip("missing_term", "a missing or extra term in a total (e.g. without the 1×1 layers' cost)", missing_term),
        Slip("network_off_by_one", "an off-by-one in a conv layer's output size", network_off_by_one),
        Slip("grouped_as_full", "a grouped or depthwise conv counted as a full conv", grouped_as_full),
        Slip("dilated_taps", "a dilated kernel's reach counted as its taps", dilated_taps),
        Slip("shortcut_left_out", "a residual block's projection shortcut left out of the count", shortcut_left_out),
        Slip("attention_scores_left_out", "attention counted as its projections only (no T²·d terms)",
             attention_scores_left_out),
        Slip("transposed_as_conv", "a transposed conv's multiplications counted on its output grid",
             transposed_as_conv),
    )
    examples = (
        {"input": [8, 8, 3], "layers": [{"conv": 4, "kernel": 3, "padding": "same", "activation": "relu"},
                                        {"maxpool": 2}, {"flatten": True}, {"dense": 10, "bias": False}]},
        {"input": [16, 16, 32], "layers": [{"name": "inception block", "branches": [
            [{"conv": 8, "kernel": 1}],
            [{"conv": 4, "kernel": 1}, {"conv": 8, "kernel": 3, "padding": "same"}],
            [{"maxpool": 3, "stride": 1, "padding": 1}, {"conv": 4, "kernel": 1}]]}]},
        {"input": [28, 28, 192], "designs": {
            "direct": [{"conv": 32, "kernel": 5, "padding": "same"}],
            "bottleneck": [{"conv": 16, "kernel": 1}, {"conv": 32, "kernel": 5, "padding": "same"}]}},
        {"input": [16, 16, 8], "layers": [
            {"conv": 8, "kernel": 3, "padding": 1, "groups": 8, "bias": False}, {"batchnorm": True},
            {"activation": "relu6"},
            {"name": "block", "residual": [{"conv": 16, "kernel": 3, "stride": 2, "padding": 2, "dilation": 2},
                                           {"activation": "gelu"}],
             "shortcut": [{"conv": 16, "kernel": 1, "stride": 2}], "activation": "relu"},
            {"maxpool": 3, "stride": 2, "padding": 1, "ceil_mode": True}, {"globalavgpool": True},
            {"flatten": True}, {"dense": 4}]},
        {"input": [1, 1, 16], "layers": [
            {"convtranspose": 8, "kernel": 4, "bias": False}, {"batchnorm": True}, {"activation": "relu"},
            {"convtranspose": 4, "kernel": 4, "stride": 2, "padding": 1, "output_padding": 1},
            {"upsample": 2}, {"globalmaxpool": True}]},
        {"input": [6], "layers": [
            {"embedding": 50, "dim": 8}, {"position_embedding": 10},
            {"residual": [{"attention": 2}, {"dropout": 0.1}]}, {"layernorm": True},
            {"residual": [{"dense": 16, "activation": "relu"}, {"dense": 8}]}, {"layernorm": True}]},
    )
    positional = ("input", "layers")

    validate = delegate()
    solve = delegate()
    recompute = delegate()

    def answer_names(self, p: Problem) -> list[str]:
        """The four answers; with designs, each design's four, prefixed `<design>.`, design by design."""
        return [f"{design}.{n}" if design else n for design in networks(p) for n in self.answers]

    def given(self, p: Problem) -> list[tuple[str, Any]]:
        """The input shape and each network's layers as tables (SPEC §15); never the published totals."""
        nets = networks(p)
        first = next(iter(nets.values()))
        out = [("input", input_entry(p.fields.input, first))]
        for design, layers in nets.items():
            out += sheet_entries(f"design {design}" if design else "layers", layers)
        return out

    def follow(self, p: Problem, answer: str, given: dict[str, Any]) -> Any:
        """A total from the student's own layer entries: the sum of theirs, or their last layer's shape."""
        design, _, bare = answer.rpartition(".")
        entries = given.get(f"{design}.layers" if design else "layers")
        if not entries:
            return None
        if bare == "output_shape":
            return entries[-1]["output_shape"]
        return sympy.Add(*[entry[bare] for entry in entries])

    def spec_of(self, answer: str) -> AnswerSpec:
        """`bottleneck.params` is judged as `params`; its dependencies are the same design's answers."""
        design, _, bare = answer.rpartition(".")
        spec = self.answers.get(bare, AnswerSpec())
        if not design:
            return spec
        return dataclasses.replace(spec, depends=tuple(f"{design}.{d}" for d in spec.depends))


KIND = Network()
