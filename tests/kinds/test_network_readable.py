"""Kind `network`, a readable key and question sheet (SPEC §15): layers as tables on the sheet, a long network's key
in a few pages, comparisons that never read "1.00× more"."""
from __future__ import annotations

from pathlib import Path

import yaml

import derive
from derive.kinds._network_tables import relation
from derive.render import Prose, Rows

ROOT = Path(__file__).resolve().parents[2]
SAME = {"padding": "same"}


def vgg16() -> derive.Solution:
    spec = yaml.safe_load((ROOT / "tests" / "layout_specs" / "vgg16.yaml").read_text())["problems"][0]
    return derive.network(spec["input"], spec["layers"])


def given(s) -> list[tuple[str, str]]:
    return s.problem.definition.given(s.problem)


# ---- the question sheet --------------------------------------------------------------------------------------

def test_the_sheet_shows_layers_as_a_table_never_as_spec_text():
    s = derive.network([28, 28, 192], [{"conv": 32, "kernel": 5, **SAME, "activation": "relu"},
                                       {"maxpool": 2}, {"flatten": True}, {"dense": 10, "bias": False}])
    entries = dict(given(s))
    assert list(entries) == ["input", "layers"]
    assert entries["input"].startswith(r"28 \times 28 \times 192") and r"\text{channels}" in entries["input"]
    table = entries["layers"]
    assert not isinstance(table, (Prose, Rows)) and table.startswith(r"\begin{array}")
    assert r"1 & \text{conv} & 32 & 5 \times 5 & 1 & \text{same} & \text{relu} & " in table
    assert r"2 & \text{maxpool} &  & 2 \times 2 & 2 & 0" in table
    assert r"\text{no bias}" in table and "conv:" not in table and "kernel:" not in table


def test_designs_each_get_a_table():
    s = derive.network([28, 28, 192], designs={"direct": [{"conv": 32, "kernel": 5, **SAME}],
                                               "bottleneck": [{"conv": 16, "kernel": 1},
                                                              {"conv": 32, "kernel": 5, **SAME}]})
    labels = [label for label, _ in given(s)]
    assert labels == ["input", "design direct", "design bottleneck"]
    assert not any(isinstance(v, Prose) for _, v in given(s))


def test_identical_neighbours_are_one_row():
    entries = given(vgg16())
    assert [label for label, _ in entries] == ["input", "layers"]
    table = entries[1][1]
    assert r"1\text{--}2 & \text{conv} & 64" in table            # layers 1 and 2 are the same: one row
    assert table.count(r"\text{maxpool}") == 5 and table.count(r"\\") == 16


def test_a_long_network_is_split_between_top_level_layers():
    layers = [{"conv": 4 + i, "kernel": 3, "padding": 1} for i in range(30)]
    entries = given(derive.network([8, 8, 3], layers))
    assert [label for label, _ in entries] == ["input", "layers 1 to 15", "layers 16 to 30"]
    block = {"residual": [{"conv": 4, "kernel": 3, "padding": 1 + i % 2, "dilation": 1 + i % 2} for i in range(15)]}
    entries = given(derive.network([32, 32, 4], [{"batchnorm": True}, {"activation": "relu"}] * 5 + [block]))
    assert [label for label, _ in entries][1:] == ["layers 1 to 10", "layers 11"]     # the block stays whole
    inner = dict(given(derive.network([8, 8, 4], [{"residual": [{"batchnorm": True}] * 3}])))["layers"]
    assert r"\text{batch norm, 3 times}" in inner


def test_a_block_repeating_an_earlier_one_is_one_row_and_blocks_are_indented():
    block = {"name": "stage", "residual": [{"conv": 4, "kernel": 3, "padding": 1}, {"batchnorm": True}],
             "activation": "relu"}
    s = derive.network([8, 8, 4], [block, {"maxpool": 2}, block])
    table = dict(given(s))["layers"]
    assert r"\hspace{1em}\text{\textit{main path}}" in table and r"\hspace{2em}\text{batch norm}" in table
    assert r"\text{the same block as layer 1}" in table and table.count(r"\text{batch norm}") == 1


def test_a_long_name_wraps_onto_the_next_rows():
    name = "the stem convolution that reads the raw image with many channels"
    table = dict(given(derive.network([8, 8, 3], [{"name": name, "conv": 4, "kernel": 3}])))["layers"]
    assert r"\text{conv (the stem convolution that}" in table and r"\hspace{1em}\text{channels)}" in table


# ---- the key ----------------------------------------------------------------------------------------------------

def test_vgg_key_works_each_kind_of_layer_once():
    """The issue's 13 near-identical pages: conv 3×3 is worked in full once, later convs in one sentence each, a
    run of such layers one step with a bullet per layer."""
    s = vgg16()
    by_title = {step.title: step for step in s.steps}
    assert len(by_title["Layer 1: conv 3×3, 64 filters, same, relu"].math) == 4
    assert by_title["Layer 2: conv 3×3, 64 filters, same, relu"].text.startswith(
        "As layer 1: $H_{\\text{out}} = W_{\\text{out}}")
    run = by_title["Layers 4 to 8"]
    assert run.math == [] and run.text.count("\n- ") == 4
    assert run.text.startswith("- Layer 4 (conv 3×3, 128 filters, same, relu), as layer 1: $H_{\\text{out}}")
    assert r"$\text{params} = (3 \cdot 3 \cdot 64 + 1) \cdot 128 = 73{,}856$" in run.text
    assert "- Layer 6 (maxpool 2×2), as layer 3: " in run.text
    assert sum(len(step.math) for step in s.steps) < 30 and len(s.steps) < 20


def test_a_run_inside_a_block_is_titled_by_its_path():
    block = {"name": "stage", "residual": [{"conv": 8, "kernel": 3, "padding": 1}, {"batchnorm": True},
                                           {"activation": "relu"}]}
    layers = [{"conv": 8, "kernel": 3, "padding": 1}, {"batchnorm": True}, {"activation": "relu"}] * 5 + [
        {"conv": 8, "kernel": 1}, block]
    titles = [step.title for step in derive.network([8, 8, 3], layers).steps]
    assert "Layer 17, main path, layers 1 to 3" in titles


def test_a_short_network_keeps_every_step_in_full():
    s = derive.network([8, 8, 3], [{"conv": 4, "kernel": 3}, {"conv": 4, "kernel": 3}])
    assert all(step.math for step in s.steps[1:3])


def test_the_summary_table_keeps_one_header_and_fixed_widths_across_chunks():
    table = vgg16().steps[-1].figure
    heads = {line for line in table.splitlines() if line.startswith(r"\begin{tabular}")}
    assert len(heads) == 1 and r"p{\dimexpr\linewidth" in heads.pop()
    assert table.count(r"\begin{tabular}") == 3 and table.count("Layer & Output shape") == 1


# ---- comparisons ----------------------------------------------------------------------------------------------

def test_a_ratio_that_rounds_to_one_reads_as_a_percentage():
    """'1.00× more than it' (the issue): a difference under half a percent is given as a percentage."""
    assert relation(1000, 1001) == "0.1% more" and relation(1001, 1000) == "0.10% fewer"
    assert relation(1000, 1000) == "the same" and relation(1000, 2500) == "2.5× more"
    s = derive.network([1000], designs={"a": [{"dense": 1000, "bias": False}],
                                        "b": [{"dense": 1000, "bias": False}, {"dense": 1, "bias": False}]})
    text = next(step.text for step in s.steps if step.title == "The designs side by side")
    assert "1.00×" not in text and "0.1% more than the a design" in text and "0.1% more than it" in text
    same = derive.network([4], designs={"a": [{"dense": 2}], "b": [{"dense": 2}]})
    assert "the same as the a design" in next(st.text for st in same.steps if st.title == "The designs side by side")


def test_a_repeated_layer_without_counts_says_no_and_a_vector_its_size():
    """'a flat vector of 4096 out, 0 parameters and 0 multiplications' (VGG's layer 23) read badly."""
    text = next(step.text for step in vgg16().steps if step.title.startswith("Layer 23"))
    assert text == "The same as layer 21: 4,096 out, no parameters and no multiplications."
