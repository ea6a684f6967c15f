"""Kind `network`: shapes, parameters and multiplications against torch.nn, known figures, bad inputs."""
from __future__ import annotations

import json

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from torch import nn

import derive
from derive.errors import SpecError
from derive.kinds import network as N
from derive.verify import to_float



def solve(input_shape, layers=None, **fields):
    """The exact answers of a network."""
    return derive.network(input_shape, layers, **fields).answers


# ---- known figures --------------------------------------------------------------------------------

SAME = {"padding": "same"}
INCEPTION_3A = [{"name": "inception (3a)", "branches": [
    [{"conv": 64, "kernel": 1}],
    [{"conv": 96, "kernel": 1}, {"conv": 128, "kernel": 3, **SAME}],
    [{"conv": 16, "kernel": 1}, {"conv": 32, "kernel": 5, **SAME}],
    [{"maxpool": 3, "stride": 1, "padding": 1}, {"conv": 32, "kernel": 1}]]}]
LENET5 = [{"conv": 6, "kernel": 5, "activation": "tanh"}, {"avgpool": 2},
          {"conv": 16, "kernel": 5, "activation": "tanh"}, {"avgpool": 2}, {"flatten": True},
          {"dense": 120, "activation": "tanh"}, {"dense": 84, "activation": "tanh"}, {"dense": 10}]


def test_ng_bottleneck():
    a = solve([28, 28, 192], designs={
        "direct": [{"conv": 32, "kernel": 5, **SAME}],
        "bottleneck": [{"conv": 16, "kernel": 1}, {"conv": 32, "kernel": 5, **SAME}]})
    assert a["direct.multiplications"] == 120_422_400
    assert a["bottleneck.multiplications"] == 12_443_648
    assert a["direct.output_shape"] == a["bottleneck.output_shape"] == [28, 28, 32]


def test_worksheet_q9_figures():
    s = derive.network([28, 28, 192], designs={
        "direct": [{"conv": 32, "kernel": 3, **SAME}],
        "bottleneck": [{"conv": 16, "kernel": 1}, {"conv": 32, "kernel": 3, **SAME}]})
    a = s.answers
    assert a["direct.multiplications"] == 43_352_064
    assert [layer["multiplications"] for layer in a["bottleneck.layers"]] == [2_408_448, 3_612_672]
    assert a["bottleneck.multiplications"] == 6_021_120
    compare = s.steps[-1]
    assert "6,021,120 multiplications, 7.2× fewer than the direct design" in compare.text
    assert any(r"\frac{43{,}352{,}064}{6{,}021{,}120} = 7.2" in line for line in compare.math)
    assert any(r"\frac{31}{36} \approx 86.11\,\%" in line for line in compare.math)


def test_worksheet_inception_q10():
    a = solve([32, 32, 192], designs={
        "naive": [{"branches": [[{"conv": 128, "kernel": 3, **SAME}], [{"conv": 32, "kernel": 5, **SAME}]]}],
        "reduced": [{"branches": [[{"conv": 64, "kernel": 1}, {"conv": 128, "kernel": 3, **SAME}],
                                  [{"conv": 16, "kernel": 1}, {"conv": 32, "kernel": 5, **SAME}]]}]})
    assert a["naive.multiplications"] == 383_778_816
    assert a["reduced.multiplications"] == 104_333_312
    assert a["naive.output_shape"] == [32, 32, 160]
    assert len(a["naive.layers"]) == 1 and a["naive.layers"][0]["output_shape"] == [32, 32, 160]
    assert a["reduced.layers"][0]["multiplications"] == 104_333_312


def test_lenet5_params():
    a = solve([32, 32, 1], LENET5)
    assert a["params"] == 61_706
    assert [layer["params"] for layer in a["layers"]] == [156, 0, 2416, 0, 0, 48120, 10164, 850]
    assert a["output_shape"] == [10]


def test_googlenet_inception_3a():
    a = solve([28, 28, 192], INCEPTION_3A)
    assert a["multiplications"] == 128_049_152
    assert a["output_shape"] == [28, 28, 256]
    assert a["params"] == 163_696


def test_q4_and_q11_counts():
    assert solve([3], [{"dense": 4}, {"dense": 2}])["params"] == 26
    s = derive.network([32, 32, 1], designs={"fc": [{"flatten": True}, {"dense": 5}],
                                             "conv": [{"conv": 5, "kernel": 32}]})
    a = s.answers
    assert a["fc.params"] == a["conv.params"] == 5125
    assert a["fc.multiplications"] == a["conv.multiplications"] == 5120
    notes = " ".join(s.notes)
    assert "is that dense layer: the same 5,125 parameters and the same 5,120 multiplications" in notes
    assert "neither is cheaper" in notes
    assert "They are the same model written two ways" in notes and "folklore" in notes


def test_equal_counts_without_the_same_model():
    s = derive.network([4], designs={"a": [{"dense": 2, "activation": "relu"}], "b": [{"dense": 2}]})
    assert len(s.notes) == 1 and "neither is cheaper" in s.notes[0] and "same model" not in s.notes[0]


def test_no_fc_note_for_small_filters():
    s = derive.network([32, 32, 1], designs={"fc": [{"flatten": True}, {"dense": 5}],
                                             "conv": [{"conv": 5, "kernel": 3}]})
    assert s.notes == []


def test_layer_entries_and_counts_are_python_ints():
    a = solve([8, 8, 3], [{"conv": 4, "kernel": 3, "bias": False}, {"batchnorm": True}, {"flatten": True},
                          {"dropout": 0.5}, {"dense": 2}])
    for entry in a["layers"]:
        assert set(entry) == {"name", "output_shape", "params", "multiplications"}
        assert all(type(v) is int for v in [entry["params"], entry["multiplications"], *entry["output_shape"]])
    assert [e["params"] for e in a["layers"]] == [108, 8, 0, 0, 290]
    assert type(a["params"]) is int and type(a["multiplications"]) is int


def test_layer_names_in_answer():
    a = solve([28, 28, 192], [{"conv": 32, "kernel": 3, **SAME}, {"maxpool": 2}, {"flatten": True},
                              {"dense": 10, "name": "classifier"}])
    assert [e["name"] for e in a["layers"]] == ["conv 3×3, 32 filters, same", "maxpool 2×2", "flatten",
                                                "classifier"]


def test_words_for_large_counts():
    assert N.words(120_422_400) == r"\approx 120\text{ million}"
    assert N.words(12_443_648) == r"\approx 12.4\text{ million}"
    assert N.words(6_000_000) == r"= 6\text{ million}"
    assert N.words(999_600_000) == r"\approx 1\text{ billion}"
    assert N.words(999_999) is None
    assert N.words(1_500_000_000_000_000) == r"= 1.5 \times 10^{15}"
    assert N.words(9_996_000_000_000_000) == r"\approx 1 \times 10^{16}"


def test_key_substitutes_the_formulas():
    s = derive.network([28, 28, 192], [{"conv": 32, "kernel": 5, **SAME}])
    lines = [line for step in s.steps for line in step.math]
    assert any(r"\lfloor (28 + 2 \cdot 2 - 5)/1 \rfloor + 1 = 28" in line for line in lines)
    assert any(r"(5 \cdot 5 \cdot 192 + 1) \cdot 32 = 153{,}632" in line for line in lines)
    assert any(r"28 \cdot 28 \cdot 32 \cdot 5 \cdot 5 \cdot 192 = 120{,}422{,}400 \approx 120\text{ million}" in line
               for line in lines)
    assert r"$153{,}632$ & $120{,}422{,}400$" in s.steps[-1].figure


def test_repeated_layers_are_grouped_and_long_tables_split():
    s = derive.network([8, 8, 3], [{"conv": 4, "kernel": 3, "padding": "same"}] * 40)
    titles = [step.title for step in s.steps]
    assert titles[1:4] == ["Layer 1: conv 3×3, 4 filters, same", "Layer 2: conv 3×3, 4 filters, same",
                           "Layers 3 to 40: conv 3×3, 4 filters, same"]
    assert s.steps[3].text == "The same as layer 2: 8×8×4 out, 148 parameters and 9,216 multiplications each."
    table = s.steps[-1].figure
    # SPEC §15: chunks of at most 12 rows (a page break leaves little blank), one header, the same column widths
    assert table.count(r"\begin{tabular}") == 4 and table.count("Layer & Output shape") == 1
    assert len({line for line in table.splitlines() if line.startswith(r"\begin{tabular}")}) == 1
    assert table.count(r"\midrule" + "\n" + "total") == 1


def test_compare_table_has_one_column_per_design():
    s = derive.network([8], designs={"a": [{"dense": 4}], "b": [{"dense": 2}], "c_1": [{"dense": 8}]})
    table = s.steps[-1].figure
    assert r" & a & b & c\_1 \\" in table
    assert r"Multiplications vs.\ a & --- & 2$\times$ fewer & 2$\times$ more \\" in table
    assert "$$" not in table
    many = derive.network([8], designs={f"d{i}": [{"dense": i + 1}] for i in range(6)}).steps[-1].figure
    assert many.count(r"\begin{tabular}{@{}lrrrr@{}}") == 1 and many.count(r"\begin{tabular}{@{}lrr@{}}") == 1


def test_json_answers(cli, spec_file, tmp_path):
    path = spec_file("""
        title: t
        problems:
          - id: q9
            kind: network
            input: [28, 28, 192]
            designs:
              direct:
                - {conv: 32, kernel: 3, padding: same}
              bottleneck:
                - {conv: 16, kernel: 1}
                - {conv: 32, kernel: 3, padding: same}
        """)
    r = cli("build", path, "--no-pdf", "-o", tmp_path / "out")
    assert r.code == 0, r.err
    answers = json.loads((tmp_path / "out" / "spec.json").read_text())["problems"][0]["answers"]
    assert answers["bottleneck.multiplications"]["value"] == 6021120
    assert answers["direct.params"]["value"] == 55328
    assert answers["bottleneck.layers"]["value"][1]["output_shape"] == [28, 28, 32]
    assert answers["bottleneck.layers"]["exact"][0]["multiplications"] == 2408448


# ---- the torch.nn oracle ------------------------------------------------------------------------

class Concat(nn.Module):
    """Branches side by side, concatenated along channels (dim 1)."""

    def __init__(self, branches: list[nn.Module]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=1)


def _torch_layer(layer: dict, shape: tuple) -> tuple[nn.Module, tuple]:
    """The nn module of one spec layer, and its output shape (N, C, H, W) or (N, F)."""
    pair = lambda v: tuple(v) if isinstance(v, list) else (v, v)  # noqa: E731
    if "conv" in layer:
        pad = layer.get("padding", 0)
        pad = "same" if pad == "same" else (0 if pad == "valid" else pair(pad))
        m = nn.Conv2d(shape[1], layer["conv"], pair(layer["kernel"]), pair(layer.get("stride", 1)), pad,
                      bias=layer.get("bias", True))
    elif "dense" in layer:
        m = nn.Linear(shape[1], layer["dense"], bias=layer.get("bias", True))
    elif "maxpool" in layer or "avgpool" in layer:
        window = layer.get("maxpool", layer.get("avgpool"))
        cls = nn.MaxPool2d if "maxpool" in layer else nn.AvgPool2d
        m = cls(pair(window), pair(layer.get("stride", window)), pair(layer.get("padding", 0)))
    elif "batchnorm" in layer:
        m = nn.BatchNorm2d(shape[1]) if len(shape) == 4 else nn.BatchNorm1d(shape[1])
    elif "dropout" in layer:
        m = nn.Dropout(layer["dropout"])
    elif "flatten" in layer:
        m = nn.Flatten()
    else:
        m = Concat([nn.Sequential(*_torch_stack(b, shape)[0]) for b in layer["branches"]])
    with torch.no_grad():
        out = m.eval()(torch.zeros(shape))
    return m, tuple(out.shape)


def _torch_stack(layers: list[dict], shape: tuple) -> tuple[list[nn.Module], list[tuple]]:
    """The modules of a layer list and each one's torch output shape."""
    modules, shapes = [], []
    for layer in layers:
        m, shape = _torch_layer(layer, shape)
        modules.append(m)
        shapes.append(shape)
    return modules, shapes


def _fvcore_mults(module: nn.Module, shape_in: tuple) -> int:
    """One multiplication per multiply-accumulate, from the torch output shapes (bias ignored)."""
    total = []

    def hook(m, _inputs, out):
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            total.append(out[0].numel() * kh * kw * m.in_channels)
        elif isinstance(m, nn.Linear):
            total.append(m.in_features * m.out_features)

    handles = [m.register_forward_hook(hook) for m in module.modules()]
    with torch.no_grad():
        module.eval()(torch.zeros(shape_in))
    for h in handles:
        h.remove()
    return sum(total)


def _hwc(torch_shape: tuple) -> list[int]:
    """(N, C, H, W) → [H, W, C]; (N, F) → [F]."""
    return [torch_shape[2], torch_shape[3], torch_shape[1]] if len(torch_shape) == 4 else [torch_shape[1]]


@st.composite
def windowed(draw, pool: bool):
    """A random conv or pool layer (any may be too large for its input: then both refuse it)."""
    stride = draw(st.integers(1, 3))
    if pool:
        k = draw(st.integers(1, 4))
        layer = {draw(st.sampled_from(["maxpool", "avgpool"])): k}
        if stride != k:
            layer["stride"] = stride
        if draw(st.booleans()):
            layer["padding"] = draw(st.integers(0, k // 2))
        return layer
    kernel = draw(st.one_of(st.integers(1, 5), st.lists(st.integers(1, 5), min_size=2, max_size=2)))
    if draw(st.booleans()):
        stride = [stride, draw(st.integers(1, 3))]
    layer = {"conv": draw(st.integers(1, 6)), "kernel": kernel, "stride": stride}
    padding = draw(st.sampled_from(["valid", "same", 0, 1, 2, [1, 0]]))
    if padding == "same" and stride != 1:
        padding = 1
    layer["padding"] = padding
    if draw(st.booleans()):
        layer["bias"] = False
    return layer


@st.composite
def image_stack(draw):
    """Conv, pool, batch norm, dropout and inception-like blocks, then flatten and dense layers."""
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.sampled_from(["conv", "conv", "pool", "batchnorm", "dropout", "branches"]))
        if choice == "conv":
            layers.append(draw(windowed(False)))
        elif choice == "pool":
            layers.append(draw(windowed(True)))
        elif choice == "batchnorm":
            layers.append({"batchnorm": True})
        elif choice == "dropout":
            layers.append({"dropout": 0.25})
        else:
            k = draw(st.sampled_from([1, 3, 5]))
            layers.append({"branches": [
                [{"conv": draw(st.integers(1, 4)), "kernel": k, "padding": "same"}],
                [{"conv": 2, "kernel": 1}, {"conv": draw(st.integers(1, 4)), "kernel": 3, "padding": 1}],
                [{"maxpool": 3, "stride": 1, "padding": 1}]]})
    layers.append({"flatten": True})
    for _ in range(draw(st.integers(0, 2))):
        layers.append(draw(st.sampled_from([{"dense": 7}, {"dense": 3, "bias": False}, {"batchnorm": True},
                                            {"branches": [[{"dense": 3}], [{"dense": 2}, {"batchnorm": True}]]}])))
    return layers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=st.integers(4, 20), w=st.integers(4, 20), c=st.integers(1, 5), layers=image_stack())
def test_torch_oracle(h, w, c, layers):
    try:
        a = solve([h, w, c], layers)
    except SpecError as exc:
        assert "larger than its" in str(exc)
        event("refused by derive and by torch")
        with pytest.raises(RuntimeError):
            _torch_stack(layers, (1, c, h, w))
        return
    event("counted")
    modules, shapes = _torch_stack(layers, (1, c, h, w))
    model = nn.Sequential(*modules)
    assert a["output_shape"] == _hwc(shapes[-1])
    assert a["params"] == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert a["multiplications"] == _fvcore_mults(model, (1, c, h, w))
    shape_in = (1, c, h, w)
    for entry, module, shape in zip(a["layers"], modules, shapes):
        assert entry["output_shape"] == _hwc(shape)
        assert entry["params"] == sum(p.numel() for p in module.parameters())
        assert entry["multiplications"] == _fvcore_mults(module, shape_in)
        shape_in = shape


@pytest.mark.parametrize("layers, shape", [(LENET5, (1, 1, 32, 32)), (INCEPTION_3A, (1, 192, 28, 28))])
def test_torch_known_networks(layers, shape):
    model = nn.Sequential(*_torch_stack(layers, shape)[0])
    a = solve(_hwc(shape), layers)
    assert a["params"] == sum(p.numel() for p in model.parameters())
    assert a["multiplications"] == _fvcore_mults(model, shape)


def test_recompute_is_checked_against_the_exact_answers():
    p = derive.engine.as_problem({"kind": "network", "input": [10, 10, 3],
                                  "layers": [{"conv": 4, "kernel": [3, 2], "stride": [2, 1]}]})
    numeric = N.recompute(p)
    exact = N.solve(p).answers
    assert to_float(exact["params"]) == numeric["params"] == 4 * (3 * 2 * 3 + 1)
    assert numeric["output_shape"] == [4.0, 9.0, 4.0]


# ---- bad inputs: exact messages, exit status 2 -----------------------------------------------------

BAD = [
    ("input: [3, 3, 1]\n    layers:\n      - {conv: 2, kernel: 5}",
     "7: q.layers[0].kernel: the 5×5 kernel is larger than its 3×3 input: there is no position to put it"),
    ("input: [3, 3, 1]\n    layers:\n      - {conv: 2, kernel: 6, padding: 1}",
     "7: q.layers[0].kernel: the 6×6 kernel is larger than its 3×3 input (padded to 5×5): "
     "there is no position to put it"),
    ("input: [28, 28, 3]\n    layers:\n      - {conv: 8, kernel: 3}\n      - {dense: 10}",
     "8: q.layers[1].dense: a dense layer needs a flat input, but it gets 26×26×8: add {flatten: true} before it"),
    ("input: [28, 28, 3]\n    layers:\n      - branches:\n          - [{conv: 4, kernel: 3}]\n"
     "          - [{conv: 4, kernel: 3, padding: same}]",
     "7: q.layers[0].branches: the branches cannot be concatenated: branch 0 gives 26×26×4, branch 1 gives "
     "28×28×4 (heights and widths must agree)"),
    ("input: [28, 28, 3]\n    layers:\n      - {conv: 0, kernel: 3}",
     "7: q.layers[0].conv: must be a positive whole number, got 0"),
    ("input: [28, 28, 3]\n    layers:\n      - {conv: -4, kernel: 3}",
     "7: q.layers[0].conv: must be a positive whole number, got -4"),
    ("input: [28, 28, 3]\n    layers:\n      - {convv: 8, kernel: 3}",
     "7: q.layers[0].convv: unknown layer type 'convv' (did you mean 'conv'?); layer types: dense, conv, "
     "convtranspose, maxpool, avgpool, globalavgpool, globalmaxpool, upsample, batchnorm, layernorm, dropout, "
     "flatten, activation, attention, embedding, position_embedding, branches, residual"),
    ("input: [28, 28, 3]\n    layers:\n      - {conv: 8, dense: 3, kernel: 3}",
     "7: q.layers[0]: a layer has one type, got 2: conv, dense; write each as a layer of its own"),
    ("input: [28, 28, 3]\n    layers:\n      - {conv: 8, kernl: 3}",
     "7: q.layers[0].kernl: unknown field of a conv layer (did you mean 'kernel'?); allowed: activation, bias, "
     "conv, dilation, groups, kernel, name, padding, stride"),
    ("input: [28, 28, 3]\n    layers:\n      - {conv: 8, kernel: 3, stride: 2, padding: same}",
     "7: q.layers[0].padding: same padding needs stride 1 (as PyTorch); give the padding as a number"),
    ("input: [28, 28, 3, 1]\n    layers:\n      - {dense: 3}",
     "5: q.input: expected [features], [tokens, features] or [height, width, channels], got 4 numbers"),
    ("input: [10]\n    layers:\n      - {conv: 3, kernel: 1}",
     "7: q.layers[0].conv: a conv layer needs a [height, width, channels] input, but it gets a flat vector of 10"),
    ("input: [10]\n    layers:\n      - {batchnorm: false}",
     "7: q.layers[0].batchnorm: expected true (leave the layer out to have no batch norm)"),
    ("input: [10, 10, 1]\n    layers:\n      - {maxpool: 2, padding: 2}",
     "7: q.layers[0].padding: a pool pads at most half its window (as PyTorch): padding 2 is too much for a "
     "window of 2"),
    ("input: [10]\n    layers:\n      - {dense: 3}\n    designs:\n      a:\n        - {dense: 3}",
     "8: q.designs: give either layers (one network) or designs (several to compare), not both"),
    ("input: [10]", "3: q.layers: required (or designs, to compare several networks)"),
    ("input: [10]\n    designs:\n      a.b:\n        - {dense: 3}",
     "7: q.designs.a.b: design name 'a.b' must use only letters, digits, '_' and '-'"),
    ("input: [10]\n    layers:\n      - {dropout: 1.5}",
     "7: q.layers[0].dropout: the drop probability must be between 0 and 1, got 3/2"),
    ("input: [8, 8, 3]\n    layers:\n      - {conv: 2, kernel: [3]}",
     "7: q.layers[0].kernel: expected one number or [height, width], got 1 number"),
    ("input: [8, 8, 3]\n    layers:\n      - branches: [{conv: 2, kernel: 1}]",
     "7: q.layers[0].branches[0]: expected a branch (a list of layers), got one layer; write it as [{…}]"),
    ("input: [8, 8, 3]\n    layers:\n      - {}",
     "7: q.layers[0]: a layer needs a type: one of dense, conv, convtranspose, maxpool, avgpool, globalavgpool, "
     "globalmaxpool, upsample, batchnorm, layernorm, dropout, flatten, activation, attention, embedding, "
     "position_embedding, branches, residual"),
    ("input: [8, 8, 3]\n    layers:\n      - {conv: 2, kernel: 3, padding: sme}",
     "7: q.layers[0].padding: expected valid, same or a whole number, got 'sme' (did you mean 'same'?)"),
]


@pytest.mark.parametrize("fields, message", BAD)
def test_bad_input(cli, spec_file, tmp_path, fields, message):
    path = spec_file("title: t\nproblems:\n  - id: q\n    kind: network\n    " + fields + "\n")
    r = cli("build", path, "--no-pdf", "-o", tmp_path / "out")
    assert r.code == 2
    assert r.err.strip() == f"{path}:{message}"


def test_layer_limit_counts_nested_layers(cli, spec_file, tmp_path):
    inner = ", ".join(["{dense: 2}"] * 512)
    path = spec_file("title: t\nproblems:\n  - id: q\n    kind: network\n    input: [4]\n    layers:\n"
                     f"      - branches: [[{inner}], [{inner}]]\n")
    r = cli("build", path, "--no-pdf", "-o", tmp_path / "out")
    assert r.code == 2
    assert r.err.strip() == (f"{path}:6: q.layers: more than 1024 layers in one network "
                             "(layers inside branches and residual blocks count too; limit 'layers')")
    ok = solve([4], [{"dense": 2}] * 1024)
    assert len(ok["layers"]) == 1024


def test_python_api_error_has_the_field():
    with pytest.raises(SpecError) as exc:
        derive.network([8, 8, 3], [{"flatten": True}, {"conv": 2, "kernel": 3}])
    assert str(exc.value) == ("problem.layers[1].conv: a conv layer needs a [height, width, channels] input, "
                              "but it gets a flat vector of 192")


# ---- SPEC §14: bad inputs of the new layers (exact messages, exit 2, nothing written) ------------------------

HEAD = "title: t\nproblems:\n  - id: q\n    kind: network\n"
BAD_14 = [
    ("residual shapes", "    input: [8, 8, 4]\n    layers:\n      - residual: [{conv: 8, kernel: 3, padding: 1}]\n"
     "        shortcut: [{conv: 8, kernel: 1, stride: 2}]\n",
     "spec.yaml:7: q.layers[0].residual: the main path and the shortcut cannot be added: the main path gives "
     "8×8×8, the shortcut gives 4×4×8"),
    ("identity shortcut", "    input: [8, 8, 4]\n    layers:\n      - residual: [{conv: 4, kernel: 3, stride: 2, "
     "padding: 1}]\n",
     "spec.yaml:7: q.layers[0].residual: the main path and the shortcut cannot be added: the main path gives "
     "4×4×4, the shortcut (the identity) keeps the input's 8×8×4: give a shortcut that matches, e.g. a 1×1 conv "
     "with the main path's stride"),
    ("groups and channels", "    input: [8, 8, 6]\n    layers:\n      - {conv: 8, kernel: 3, groups: 4}\n",
     "spec.yaml:7: q.layers[0].groups: the input's 6 channels cannot be split into 4 groups (the groups must "
     "divide the channels, as PyTorch)"),
    ("groups and filters", "    input: [8, 8, 8]\n    layers:\n      - {conv: 6, kernel: 3, groups: 4}\n",
     "spec.yaml:7: q.layers[0].groups: the 6 filters cannot be split into 4 groups (the groups must divide the "
     "filters, as PyTorch)"),
    ("output padding", "    input: [4, 4, 6]\n    layers:\n      - {convtranspose: 6, kernel: 3, stride: 2, "
     "output_padding: 2}\n",
     "spec.yaml:7: q.layers[0].output_padding: the output padding must be smaller than the stride (as PyTorch): "
     "output padding 2 with stride 2"),
    ("heads", "    input: [16, 30]\n    layers:\n      - {attention: 4}\n",
     "spec.yaml:7: q.layers[0].attention: the 30 features cannot be split among 4 heads (the heads must divide "
     "the features, as nn.MultiheadAttention)"),
    ("embedding on an image", "    input: [8, 8, 3]\n    layers:\n      - {embedding: 100, dim: 8}\n",
     "spec.yaml:7: q.layers[0].embedding: an embedding layer reads input: [tokens] (a number of token ids), but "
     "the input is 8×8×3"),
    ("embedding not first", "    input: [16]\n    layers:\n      - {dense: 4}\n      - {embedding: 100, dim: 8}\n",
     "spec.yaml:8: q.layers[1].embedding: an embedding layer reads token ids: it must be the network's first "
     "layer, on input: [tokens]"),
    ("dense on an image", "    input: [8, 8, 3]\n    layers:\n      - {conv: 4, kernel: 3}\n      - {dense: 10}\n",
     "spec.yaml:8: q.layers[1].dense: a dense layer needs a flat input, but it gets 6×6×4: add {flatten: true} "
     "before it"),
    ("too many tokens", "    input: [16]\n    layers:\n      - {embedding: 100, dim: 8}\n"
     "      - {position_embedding: 8}\n",
     "spec.yaml:8: q.layers[1].position_embedding: 16 tokens are more than the 8 positions it has (max_tokens)"),
    ("attention on an image", "    input: [8, 8, 3]\n    layers:\n      - {attention: 2}\n",
     "spec.yaml:7: q.layers[0].attention: an attention layer needs a [tokens, features] input, but it gets 8×8×3"),
    ("an avgpool", "    input: [8, 8, 3]\n    layers:\n      - {avgpool: 2, sride: 2}\n",
     "spec.yaml:7: q.layers[0].sride: unknown field of an avgpool layer (did you mean 'stride'?); allowed: "
     "avgpool, ceil_mode, name, padding, stride"),
    ("dilation of a dense layer", "    input: [8]\n    layers:\n      - {dense: 2, dilation: 2}\n",
     "spec.yaml:7: q.layers[0].dilation: unknown field of a dense layer (dilation is a field of conv layers); "
     "allowed: activation, bias, dense, name"),
    ("unknown activation", "    input: [8]\n    layers:\n      - {activation: rleu6}\n",
     "spec.yaml:7: q.layers[0].activation: expected one of linear, relu, leaky_relu, sigmoid, tanh, softmax, "
     "relu6, gelu, got 'rleu6' (did you mean 'relu6'?)"),
    ("published", "    input: [8]\n    layers:\n      - {dense: 2}\n    published: {params: 19}\n",
     "spec.yaml:8: q.published.params: the layers give 18 parameters, but 19 are published: these layers are not "
     "the published network"),
    ("transposed too small", "    input: [2, 2, 1]\n    layers:\n      - {convtranspose: 1, kernel: 1, padding: 1}\n",
     "spec.yaml:7: q.layers[0].padding: the padding leaves no output: (H − 1)·s − 2p + k + output padding gives "
     "0×0"),
    ("dilated too large", "    input: [4, 4, 1]\n    layers:\n      - {conv: 1, kernel: 3, dilation: 2}\n",
     "spec.yaml:7: q.layers[0].kernel: the 3×3 kernel (dilated to 5×5) is larger than its 4×4 input: there is "
     "no position to put it"),
]


@pytest.mark.parametrize("what, fields, message", BAD_14, ids=[b[0] for b in BAD_14])
def test_bad_input_of_real_architectures(bad_spec, what, fields, message):
    assert bad_spec(HEAD + fields) == message


def test_layer_limit_counts_residual_blocks(bad_spec):
    inner = ", ".join(["{dense: 2}"] * 1023)
    message = bad_spec(HEAD + f"    input: [2]\n    layers:\n      - residual: [{inner}]\n      - {{dense: 2}}\n")
    assert message == ("spec.yaml:6: q.layers: more than 1024 layers in one network (layers inside branches and "
                       "residual blocks count too; limit 'layers')")
    assert len(solve([2], [{"residual": [{"dense": 2}] * 1023}])["layers"]) == 1


# ---- SPEC §14: counts, steps, tables -------------------------------------------------------------------------

def test_residual_counts_are_the_sums():
    a = solve([8, 8, 4], [{"residual": [{"conv": 8, "kernel": 3, "padding": 1}, {"batchnorm": True}],
                           "shortcut": [{"conv": 8, "kernel": 1}], "activation": "relu"}])
    (entry,) = a["layers"]
    assert entry["params"] == (9 * 4 + 1) * 8 + 16 + (4 + 1) * 8 == a["params"]
    assert entry["multiplications"] == 64 * 8 * 9 * 4 + 64 * 8 * 4
    assert entry["name"] == "residual block (2 layers, a 1-layer shortcut), relu"


def test_sequence_counts():
    a = solve([10], [{"embedding": 50, "dim": 8}, {"position_embedding": 12}, {"attention": 2}, {"layernorm": True},
                     {"dense": 3}, {"activation": "gelu"}])
    assert [e["output_shape"] for e in a["layers"]] == [[10, 8]] * 4 + [[10, 3]] * 2
    assert [e["params"] for e in a["layers"]] == [400, 96, 4 * 64 + 32, 16, 27, 0]
    assert [e["multiplications"] for e in a["layers"]] == [0, 0, 4 * 10 * 64 + 2 * 100 * 8, 0, 10 * 8 * 3, 0]


def test_key_of_new_layers():
    s = derive.network([9, 9, 4], [{"conv": 8, "kernel": 3, "dilation": 2, "groups": 4},
                                   {"maxpool": 2, "ceil_mode": True},
                                   {"convtranspose": 2, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
                                   {"upsample": 2}, {"globalmaxpool": True}])
    lines = [line for step in s.steps for line in step.math]
    assert any(r"k' = 2 \cdot (3 - 1) + 1 = 5" in line for line in lines)
    assert any(r"\lfloor (9 - 5)/1 \rfloor + 1 = 5" in line for line in lines)
    assert any(r"(3 \cdot 3 \cdot (4/4) + 1) \cdot 8 = 80" in line for line in lines)
    assert any(r"\lceil (5 - 2)/2 \rceil + 1 = 3" in line for line in lines)
    assert any(r"H_{\text{out}} = W_{\text{out}} = (3 - 1) \cdot 2 - 2 \cdot 1 + 3 + 1 = 6" in line for line in lines)
    assert any(r"3 \cdot 3 \cdot 8 \cdot 3 \cdot 3 \cdot 2 = 1{,}296" in line for line in lines)
    assert any(r"6 \cdot 2 = 12" in line for line in lines)
    assert s.answers["output_shape"] == [1, 1, 2]
    assert "groups: } C_{\\text{in}} \\to C_{\\text{in}}/g" in s.steps[0].math[-2] or any(
        "C_{\\text{in}}/g" in line for line in s.steps[0].math)


def test_attention_key_splits_the_multiplications():
    s = derive.network([16, 64], [{"attention": 4}])
    assert any(r"4 \cdot 16 \cdot 64^2 + 2 \cdot 16^2 \cdot 64 = 262{,}144 + 32{,}768 = 294{,}912" in line
               for step in s.steps for line in step.math)


def test_residual_steps_and_table():
    s = derive.network([8, 8, 4], [{"name": "stage", "residual": [{"conv": 4, "kernel": 3, "padding": 1}]},
                                   {"name": "stage", "residual": [{"conv": 4, "kernel": 3, "padding": 1}]},
                                   {"name": "stage", "residual": [{"conv": 4, "kernel": 3, "padding": 1}]}])
    titles = [step.title for step in s.steps]
    assert titles[1:5] == ["Layer 1: stage, block 1", "Layer 1, main path, layer 1: conv 3×3, 4 filters, padding 1",
                           "Layer 1: the addition", "Layers 2 to 3: stage, blocks 2–3"]
    assert s.steps[4].text == "The same as block 1: 8×8×4 out, 148 parameters and 9,216 multiplications each."
    table = s.steps[-1].figure
    assert r"\textit{shortcut: identity}" in table and r"$\oplus$ main path + shortcut" in table
    assert r"stage, block 2 \textit{(as block 1)}" in table and table.count("main path +") == 1
    assert [e["name"] for e in s.answers["layers"]] == ["stage, block 1", "stage, block 2", "stage, block 3"]


def test_periodic_repeats_in_one_line():
    s = derive.network([8, 8, 4], [{"conv": 4, "kernel": 3, "padding": 1}, {"activation": "relu"}] * 3)
    step = next(step for step in s.steps if step.title.startswith("Layers 3 to 6"))
    assert step.title == "Layers 3 to 6: layers 1 to 2 again"
    assert step.text == "They are layers 1 to 2 again, 2 times over: the same shapes, parameters and multiplications."


def test_depthwise_note():
    s = derive.network([8, 8, 4], [{"conv": 4, "kernel": 3, "padding": 1, "groups": 4}, {"conv": 8, "kernel": 1}])
    (note,) = s.notes
    assert note.startswith("Of the 4,352 multiplications, the one depthwise conv does 2,304 (52.9%) and the one "
                           "pointwise 1×1 conv 2,048 (47.1%); of the 80 parameters the depthwise conv holds 40")


# ---- SPEC §14: slips, follow-through ------------------------------------------------------------------------

SLIPPED = [
    ("grouped_as_full", "input: [8, 8, 4]\n    layers: [{conv: 4, kernel: 3, padding: 1, groups: 4}]", "params", 148),
    ("dilated_taps", "input: [9, 9, 2]\n    layers: [{conv: 2, kernel: 3, dilation: 2}]", "params", 102),
    ("shortcut_left_out", "input: [8, 8, 4]\n    layers:\n"
     "      - {residual: [{conv: 8, kernel: 3, padding: 1}], shortcut: [{conv: 8, kernel: 1}, {batchnorm: true}]}\n"
     "      - {residual: [{conv: 4, kernel: 3, padding: 1}], shortcut: [{conv: 4, kernel: 1}, {batchnorm: true}]}",
     "params", 296 + 292),
    ("attention_scores_left_out", "input: [4, 8]\n    layers: [{attention: 2}]", "multiplications", 1024),
    ("transposed_as_conv", "input: [2, 2, 3]\n    layers: [{convtranspose: 4, kernel: 2, stride: 2}]",
     "multiplications", 768),
]


@pytest.mark.parametrize("slip, fields, answer, given", SLIPPED, ids=[s[0] for s in SLIPPED])
def test_slips_of_real_architectures(slip, fields, answer, given):
    from derive.grading.run import check
    from derive.spec import parse
    from derive.yamlsafe import Plain
    sheet = parse(HEAD + "    " + fields + "\n")
    report = check(sheet, {"q": {answer: Plain(str(given))}})
    (mark,) = report.problems[0].marks
    assert not mark.ok and slip in mark.slip_names, mark.slip


def test_residual_totals_follow_from_the_students_layers():
    from derive.grading.run import check
    from derive.spec import parse
    from derive.yamlsafe import Plain
    sheet = parse(HEAD + "    input: [8, 8, 4]\n    layers:\n"
                  "      - {residual: [{conv: 8, kernel: 3, padding: 1}], shortcut: [{conv: 8, kernel: 1}]}\n"
                  "      - {globalavgpool: true}\n")
    report = check(sheet, {"q": {"layers": [{"params": Plain("296")}, {"params": Plain("0")}],
                                 "params": Plain("296")}})
    total = next(m for m in report.problems[0].marks if m.name == "params")
    assert not total.ok and total.carried == "layers"
