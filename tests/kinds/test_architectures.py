"""Kind `network` on real architectures (SPEC §14), torch.nn as the oracle.

Each reference model is written here in torch.nn, as torchvision (or the paper) builds it, on the meta device (no
memory is allocated): its parameter count must equal the published figure, and derive's count of the same
architecture, written as a spec, must equal torch's parameters (sum of p.numel()) and the multiplications that
forward hooks count by SPEC's rule (conv: H_out·W_out·C_out·kh·kw·C_in/g; transposed conv: H_in·W_in·C_in·kh·kw·
C_out; dense: T·in·out; attention: 4·T·d² + 2·T²·d). torchvision does not import here, hence the rebuilds.
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import derive
from derive.errors import SpecError

META = torch.device("meta")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny CPU convolutions run fastest on one thread (and do not fight the rest of the suite for cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def solve(input_shape, layers):
    return derive.network(input_shape, layers).answers


# ---- the torch side: counts by SPEC's rule -------------------------------------------------------------

def hook_mults(model: nn.Module, x: torch.Tensor) -> int:
    """Multiplications of one forward pass of one sample, counted by forward hooks."""
    total = []

    def hook(m, inputs, out):
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            total.append(out[0].numel() * kh * kw * m.in_channels // m.groups)
        elif isinstance(m, nn.ConvTranspose2d):
            kh, kw = m.kernel_size
            total.append(inputs[0][0].numel() * kh * kw * m.out_channels // m.groups)
        elif isinstance(m, nn.Linear):
            total.append(out[0].numel() * m.in_features)
        elif isinstance(m, nn.MultiheadAttention):
            t, d = inputs[0].shape[-2:]
            total.append(4 * t * d * d + 2 * t * t * d)

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return sum(total)


def params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def agree(model: nn.Module, x: torch.Tensor, input_shape: list, layers: list, published: int | None = None) -> dict:
    """derive and torch agree on the output shape, parameters and multiplications (and the published count)."""
    a = solve(input_shape, layers)
    with torch.no_grad():
        out = model(x)
    shape = list(out.shape[1:]) if out.dim() != 4 else [out.shape[2], out.shape[3], out.shape[1]]
    assert a["output_shape"] == shape
    assert a["params"] == params(model)
    assert a["multiplications"] == hook_mults(model, x)
    if published is not None:
        assert params(model) == published
    return a


# ---- ResNet, ResNeXt ------------------------------------------------------------------------------------

class Block(nn.Module):
    """torchvision's BasicBlock (bottleneck=False) or Bottleneck (stride on the 3×3, groups and width)."""

    def __init__(self, cin: int, planes: int, stride: int, bottleneck: bool, groups: int = 1, base: int = 64):
        super().__init__()
        out = planes * (4 if bottleneck else 1)
        if bottleneck:
            w = planes * base // 64 * groups
            self.main = nn.Sequential(
                nn.Conv2d(cin, w, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                nn.Conv2d(w, w, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                nn.Conv2d(w, out, 1, bias=False), nn.BatchNorm2d(out))
        else:
            self.main = nn.Sequential(
                nn.Conv2d(cin, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(),
                nn.Conv2d(planes, planes, 3, 1, 1, bias=False), nn.BatchNorm2d(planes))
        self.down = (nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                     if stride != 1 or cin != out else None)

    def forward(self, x):
        return torch.relu(self.main(x) + (self.down(x) if self.down is not None else x))


def resnet_torch(depths: list[int], bottleneck: bool) -> nn.Module:
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for i, n in enumerate(depths):
        planes = 64 * 2 ** i
        for b in range(n):
            layers.append(Block(cin, planes, 2 if i and not b else 1, bottleneck))
            cin = planes * (4 if bottleneck else 1)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000))


def cbr(f: int, k: int, s: int = 1, p: int = 0, act: str | None = "relu", groups: int = 1) -> list[dict]:
    """conv (no bias) → batch norm → activation, as spec layers."""
    conv = {"conv": f, "kernel": k, "stride": s, "padding": p, "bias": False, "groups": groups}
    return [conv, {"batchnorm": True}] + ([{"activation": act}] if act else [])


def block_spec(name: str, cin: int, planes: int, stride: int, bottleneck: bool, groups: int = 1,
               base: int = 64) -> dict:
    out = planes * (4 if bottleneck else 1)
    if bottleneck:
        w = planes * base // 64 * groups
        main = cbr(w, 1) + cbr(w, 3, stride, 1, groups=groups) + cbr(out, 1, act=None)
    else:
        main = cbr(planes, 3, stride, 1) + cbr(planes, 3, 1, 1, act=None)
    block = {"name": name, "residual": main, "activation": "relu"}
    if stride != 1 or cin != out:
        block["shortcut"] = cbr(out, 1, stride, act=None)
    return block


def resnet_spec(depths: list[int], bottleneck: bool) -> list[dict]:
    layers = cbr(64, 7, 2, 3) + [{"maxpool": 3, "stride": 2, "padding": 1}]
    cin = 64
    for i, n in enumerate(depths):
        planes = 64 * 2 ** i
        for b in range(n):
            layers.append(block_spec(f"layer{i + 1}", cin, planes, 2 if i and not b else 1, bottleneck))
            cin = planes * (4 if bottleneck else 1)
    return layers + [{"globalavgpool": True}, {"flatten": True}, {"dense": 1000}]


IMAGE = [224, 224, 3]


def image(c: int = 3, h: int = 224, w: int = 224) -> torch.Tensor:
    return torch.empty(1, c, h, w, device=META)


@pytest.mark.parametrize("depths, bottleneck, published, mults", [
    ([2, 2, 2, 2], False, 11_689_512, 1_814_073_344), ([3, 4, 6, 3], True, 25_557_032, 4_089_184_256)])
def test_resnet(depths, bottleneck, published, mults):
    with META:
        model = resnet_torch(depths, bottleneck)
    a = agree(model, image(), IMAGE, resnet_spec(depths, bottleneck), published)
    assert a["multiplications"] == mults and a["output_shape"] == [1000]


def test_resnext_block():
    """resnext50_32x4d's first block: 1×1 to 128, a 3×3 conv in 32 groups, 1×1 to 256, a projection."""
    with META:
        model = Block(64, 64, 1, True, groups=32, base=4)
    a = agree(model, image(64, 56, 56), [56, 56, 64], [block_spec("block", 64, 64, 1, True, 32, 4)])
    assert a["layers"][0]["params"] == 63_488
    grouped = derive.network([56, 56, 128], [{"conv": 128, "kernel": 3, "padding": 1, "groups": 32}]).answers
    assert grouped["params"] == 3 * 3 * 4 * 128 + 128


# ---- MobileNet v1 and v2 ------------------------------------------------------------------------------

V1 = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


def mobilenet_v1_torch() -> nn.Module:
    def cbr6(cin, cout, k, s, g):
        return [nn.Conv2d(cin, cout, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]
    layers, cin = cbr6(3, 32, 3, 2, 1), 32
    for f, s in V1:
        layers += cbr6(cin, cin, 3, s, cin) + cbr6(cin, f, 1, 1, 1)
        cin = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.001), nn.Linear(1024, 1000))


def mobilenet_v1_spec() -> list[dict]:
    layers, cin = cbr(32, 3, 2, 1, "relu6"), 32
    for f, s in V1:
        layers += cbr(cin, 3, s, 1, "relu6", groups=cin) + cbr(f, 1, act="relu6")
        cin = f
    return layers + [{"globalavgpool": True}, {"flatten": True}, {"dropout": 0.001}, {"dense": 1000}]


def test_mobilenet_v1():
    """Keras' MobileNet(alpha=1.0) at 224 has 4,231,976 trainable parameters; the paper, 569 million mult-adds."""
    with META:
        model = mobilenet_v1_torch()
    a = agree(model, image(), IMAGE, mobilenet_v1_spec(), 4_231_976)
    assert round(a["multiplications"], -6) == 569_000_000


V2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class Inverted(nn.Module):
    """torchvision's InvertedResidual: expand 1×1, depthwise 3×3, project 1×1 (no activation), residual if it fits."""

    def __init__(self, cin: int, cout: int, stride: int, t: int):
        super().__init__()
        h = cin * t
        layers = [] if t == 1 else [nn.Conv2d(cin, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6()]
        layers += [nn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
                   nn.Conv2d(h, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


def mobilenet_v2() -> tuple[nn.Module, list[dict]]:
    with META:
        modules = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()]
    spec, cin = cbr(32, 3, 2, 1, "relu6"), 32
    for t, c, n, s in V2:
        for i in range(n):
            stride = s if i == 0 else 1
            with META:
                modules.append(Inverted(cin, c, stride, t))
            h = cin * t
            inner = ([] if t == 1 else cbr(h, 1, act="relu6")) + cbr(h, 3, stride, 1, "relu6", groups=h) \
                + cbr(c, 1, act=None)
            spec += [{"residual": inner}] if modules[-1].res else inner
            cin = c
    with META:
        modules += [nn.Conv2d(320, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6(), nn.AdaptiveAvgPool2d(1),
                    nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, 1000)]
    spec += cbr(1280, 1, act="relu6") + [{"globalavgpool": True}, {"flatten": True}, {"dropout": 0.2},
                                        {"dense": 1000}]
    return nn.Sequential(*modules), spec


def test_mobilenet_v2():
    """torchvision's mobilenet_v2: 3,504,872 parameters, 300 million multiply-adds."""
    model, spec = mobilenet_v2()
    a = agree(model, image(), IMAGE, spec, 3_504_872)
    assert round(a["multiplications"], -6) == 301_000_000


# ---- GoogLeNet (no auxiliary heads) ---------------------------------------------------------------------

INCEPTIONS = [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64), "pool", (192, 96, 208, 16, 48, 64),
              (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64),
              (256, 160, 320, 32, 128, 128), "pool2", (256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)]


def basic(cin: int, cout: int, k: int, p: int = 0, s: int = 1) -> nn.Module:
    """torchvision's BasicConv2d: conv (no bias), batch norm (eps 0.001), ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout, eps=0.001), nn.ReLU())


class Inception(nn.Module):
    def __init__(self, cin, c1, r3, c3, r5, c5, proj):
        super().__init__()
        self.b = nn.ModuleList([basic(cin, c1, 1), nn.Sequential(basic(cin, r3, 1), basic(r3, c3, 3, 1)),
                                nn.Sequential(basic(cin, r5, 1), basic(r5, c5, 3, 1)),   # torchvision's 3×3
                                nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), basic(cin, proj, 1))])

    def forward(self, x):
        return torch.cat([b(x) for b in self.b], 1)


def googlenet() -> tuple[nn.Module, list[dict]]:
    with META:
        modules = [basic(3, 64, 7, 3, 2), nn.MaxPool2d(3, 2, ceil_mode=True), basic(64, 64, 1), basic(64, 192, 3, 1),
                   nn.MaxPool2d(3, 2, ceil_mode=True)]
    spec = cbr(64, 7, 2, 3) + [{"maxpool": 3, "stride": 2, "ceil_mode": True}] + cbr(64, 1) + cbr(192, 3, 1, 1) \
        + [{"maxpool": 3, "stride": 2, "ceil_mode": True}]
    cin = 192
    for item in INCEPTIONS:
        if isinstance(item, str):
            k = 3 if item == "pool" else 2
            with META:
                modules.append(nn.MaxPool2d(k, 2, ceil_mode=True))
            spec.append({"maxpool": k, "stride": 2, "ceil_mode": True})
            continue
        c1, r3, c3, r5, c5, proj = item
        with META:
            modules.append(Inception(cin, *item))
        spec.append({"branches": [cbr(c1, 1), cbr(r3, 1) + cbr(c3, 3, 1, 1), cbr(r5, 1) + cbr(c5, 3, 1, 1),
                                  [{"maxpool": 3, "stride": 1, "padding": 1, "ceil_mode": True}] + cbr(proj, 1)]})
        cin = c1 + c3 + c5 + proj
    with META:
        modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1024, 1000)]
    spec += [{"globalavgpool": True}, {"flatten": True}, {"dropout": 0.2}, {"dense": 1000}]
    return nn.Sequential(*modules), spec


def test_googlenet_without_aux():
    """torchvision's googlenet (aux_logits=False): 6,624,904 parameters."""
    model, spec = googlenet()
    agree(model, image(), IMAGE, spec, 6_624_904)


# ---- dilation, transposed convs ------------------------------------------------------------------------

def test_dilated_stack():
    with META:
        model = nn.Sequential(nn.Conv2d(16, 32, 3, padding="same", dilation=2), nn.ReLU(),
                              nn.Conv2d(32, 32, 3, padding=4, dilation=4, bias=False), nn.BatchNorm2d(32),
                              nn.Conv2d(32, 8, 3, stride=2, dilation=(1, 3)), nn.Conv2d(8, 8, (2, 4), padding="same",
                                                                                   dilation=3))
    layers = [{"conv": 32, "kernel": 3, "padding": "same", "dilation": 2}, {"activation": "relu"},
              {"conv": 32, "kernel": 3, "padding": 4, "dilation": 4, "bias": False}, {"batchnorm": True},
              {"conv": 8, "kernel": 3, "stride": 2, "dilation": [1, 3]},
              {"conv": 8, "kernel": [2, 4], "padding": "same", "dilation": 3}]
    a = agree(model, image(16, 33, 40), [33, 40, 16], layers)
    assert a["layers"][0]["output_shape"] == [33, 40, 32] and a["layers"][4]["output_shape"] == [16, 17, 8]


def test_dcgan_generator():
    """DCGAN's generator (nz 100, ngf 64): 3,576,704 parameters, 4×4 up to 64×64×3."""
    with META:
        model = nn.Sequential(nn.ConvTranspose2d(100, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(),
                              *[m for c in (512, 256, 128) for m in (nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                                                                     nn.BatchNorm2d(c // 2), nn.ReLU())],
                              nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh())
    layers = [{"convtranspose": 512, "kernel": 4, "bias": False}, {"batchnorm": True}, {"activation": "relu"}]
    for c in (256, 128, 64):
        layers += [{"convtranspose": c, "kernel": 4, "stride": 2, "padding": 1, "bias": False}, {"batchnorm": True},
                   {"activation": "relu"}]
    layers += [{"convtranspose": 3, "kernel": 4, "stride": 2, "padding": 1, "bias": False, "activation": "tanh"}]
    a = agree(model, image(100, 1, 1), [1, 1, 100], layers, 3_576_704)
    assert a["output_shape"] == [64, 64, 3]


# ---- sequences ----------------------------------------------------------------------------------------------

def encoder_layer_spec(d: int, heads: int, ff: int) -> list[dict]:
    return [{"residual": [{"attention": heads}, {"dropout": 0.1}]}, {"layernorm": True},
            {"residual": [{"dense": ff, "activation": "relu"}, {"dropout": 0.1}, {"dense": d}, {"dropout": 0.1}]},
            {"layernorm": True}]


@pytest.mark.parametrize("d, heads, ff, depth, tokens", [(64, 4, 256, 2, 16), (32, 8, 64, 3, 5), (12, 3, 48, 1, 40)])
def test_transformer_encoder_stack(d, heads, ff, depth, tokens):
    with META:
        model = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, heads, ff, batch_first=True), depth,
                                      enable_nested_tensor=False)
    x = torch.empty(1, tokens, d, device=META)
    a = agree(model, x, [tokens, d], encoder_layer_spec(d, heads, ff) * depth)
    assert a["params"] == depth * (4 * d * d + 2 * d * ff + ff + 9 * d)


class Embedded(nn.Module):
    """Token embedding, learned positions, then the given modules."""

    def __init__(self, vocab: int, d: int, positions: int, rest: nn.Module):
        super().__init__()
        self.tokens, self.positions, self.rest = nn.Embedding(vocab, d), nn.Parameter(torch.empty(positions, d)), rest

    def forward(self, ids):
        return self.rest(self.tokens(ids) + self.positions[: ids.shape[1]])


def test_embedding_stack():
    with META:
        model = Embedded(1000, 64, 32, nn.Sequential(nn.LayerNorm(64), nn.Linear(64, 10)))
    ids = torch.zeros(1, 20, dtype=torch.long, device=META)
    layers = [{"embedding": 1000, "dim": 64}, {"position_embedding": 32}, {"layernorm": True}, {"dense": 10}]
    a = agree(model, ids, [20], layers)
    assert [e["params"] for e in a["layers"]] == [64_000, 2_048, 128, 650]
    assert a["multiplications"] == 20 * 64 * 10


def test_architectures_yaml_totals(cli, tmp_path):
    import json
    r = cli("build", "problems/architectures.yaml", "--no-pdf", "-o", tmp_path)
    assert r.code == 0, r.err
    answers = {p["id"]: p["answers"] for p in json.loads((tmp_path / "architectures.json").read_text())["problems"]}
    assert answers["resnet18"]["params"]["value"] == 11_689_512
    assert answers["mobilenet"]["params"]["value"] == 4_231_976
    assert answers["transformer"]["params"]["value"] == 164_992
    with META:
        encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4, 256, batch_first=True), 2,
                                        enable_nested_tensor=False)
        model = Embedded(1000, 64, 16, encoder)
    ids = torch.zeros(1, 16, dtype=torch.long, device=META)
    assert params(model) == 164_992
    assert answers["transformer"]["multiplications"]["value"] == hook_mults(model, ids) == 1_638_400


# ---- hypothesis: random layers against real modules --------------------------------------------------------

@st.composite
def one_layer(draw, c: int):
    """A random conv (grouped, dilated), pool (padded, ceil mode), transposed conv, upsample or global pool."""
    kind = draw(st.sampled_from(["conv", "conv", "pool", "transposed", "upsample", "global"]))
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    if kind == "conv":
        g = draw(st.sampled_from([d for d in range(1, c + 1) if c % d == 0]))
        f = g * draw(st.integers(1, 3))
        d = draw(st.integers(1, 3))
        pad = "same" if s == 1 and draw(st.booleans()) else draw(st.integers(0, 3))
        return ({"conv": f, "kernel": k, "stride": s, "padding": pad, "dilation": d, "groups": g},
                nn.Conv2d(c, f, k, s, pad, dilation=d, groups=g))
    if kind == "pool":
        p, ceil = draw(st.integers(0, k // 2)), draw(st.booleans())
        which = draw(st.sampled_from(["maxpool", "avgpool"]))
        cls = nn.MaxPool2d if which == "maxpool" else nn.AvgPool2d
        return {which: k, "stride": s, "padding": p, "ceil_mode": ceil}, cls(k, s, p, ceil_mode=ceil)
    if kind == "transposed":
        f, p, op = draw(st.integers(1, 4)), draw(st.integers(0, 2)), draw(st.integers(0, s - 1))
        bias = draw(st.booleans())
        return ({"convtranspose": f, "kernel": k, "stride": s, "padding": p, "output_padding": op, "bias": bias},
                nn.ConvTranspose2d(c, f, k, s, p, output_padding=op, bias=bias))
    if kind == "upsample":
        return {"upsample": s}, nn.Upsample(scale_factor=s, mode="nearest")
    if draw(st.booleans()):
        return {"globalavgpool": True}, nn.AdaptiveAvgPool2d(1)
    return {"globalmaxpool": True}, nn.AdaptiveMaxPool2d(1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=st.integers(1, 12), w=st.integers(1, 12), c=st.sampled_from([1, 2, 3, 4, 6, 8]), data=st.data())
def test_random_layers_against_torch(h, w, c, data):
    layer, module = data.draw(one_layer(c))
    x = torch.zeros(1, c, h, w)
    try:
        a = solve([h, w, c], [layer])
    except SpecError as exc:
        assert "there is no position to put it" in str(exc) or "leaves no output" in str(exc)
        try:   # torch refuses it too, or (a transposed conv) gives an empty output
            empty = module(x)
        except RuntimeError:
            return
        assert "leaves no output" in str(exc) and empty.numel() == 0
        return
    with torch.no_grad():
        out = module(x)
    assert a["output_shape"] == [out.shape[2], out.shape[3], out.shape[1]]
    assert a["params"] == params(module)
    assert a["multiplications"] == hook_mults(module, x)


# ---- the key of a big network stays readable ----------------------------------------------------------------

def test_resnet50_key_summarises_repeated_blocks():
    s = derive.network(IMAGE, resnet_spec([3, 4, 6, 3], True))
    by_title = {step.title: step for step in s.steps}
    step = by_title["Layers 14 to 17: layer3, blocks 3–6"]
    assert step.text == ("The same as block 2: 14×14×1024 out, 1,117,184 parameters and 218,365,952 multiplications "
                         "each.")
    assert "Layer 7: layer1, block 3" in by_title and "Layer 20: layer4, block 3" in by_title
    table = s.steps[-1].figure
    assert r"layer3, block 6 \textit{(as block 2)}" in table
    assert table.count(r"\textit{shortcut}") == 4 and table.count(r"\textit{shortcut: identity}") == 4
    assert len(s.steps) < 120


def test_mobilenet_v1_note_and_repeats():
    s = derive.network(IMAGE, mobilenet_v1_spec())
    (note,) = s.notes
    assert "the 13 depthwise convs do 17,385,984 (3.1%) and the 13 pointwise 1×1 convs 539,492,352 (94.9%)" in note
    assert any(step.title == "Layers 46 to 69: layers 40 to 45 again" for step in s.steps)
