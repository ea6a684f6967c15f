"""conv2d against PyTorch (F.conv2d), the worksheet's problem 7, the known-kernel stories, and bad input."""
import json
import shutil
import subprocess

import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings, strategies as st

import derive
from derive.kinds import kernels as K
from derive.verify import to_float

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")

values = st.integers(-8, 8).map(lambda n: n / 4)      # exact quarters: 0.25 → 1/4

Q7_IMAGE = [[10, 10, 10, 0, 0, 0]] * 6
PREWITT = [[1, 0, -1]] * 3


@st.composite
def conv_cases(draw):
    c = draw(st.integers(1, 3))
    h, w = draw(st.integers(2, 6)), draw(st.integers(2, 6))
    f = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from([0, 1, 2, "valid", "same", [1, 0], [0, 2]]))
    stride = 1 if padding == "same" else draw(st.sampled_from([1, 2, 3, [1, 2], [3, 1]]))
    pad = {"valid": [0, 0], "same": [kh, kw]}.get(padding, padding) if isinstance(padding, str) else padding
    ph, pw = pad if isinstance(pad, list) else (pad, pad)
    assume(kh <= h + 2 * ph and kw <= w + 2 * pw)
    image = [[[draw(values) for _ in range(w)] for _ in range(h)] for _ in range(c)]
    filters = [[[[draw(values) for _ in range(kw)] for _ in range(kh)] for _ in range(c)] for _ in range(f)]
    bias = [draw(values) for _ in range(f)]
    flip = draw(st.booleans())
    activation = draw(st.sampled_from(["linear", "relu", "sigmoid", "tanh"]))
    return image, filters, bias, stride, padding, flip, activation


TORCH_ACT = {"linear": lambda t: t, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv2d_matches_torch(case):
    image, filters, bias, stride, padding, flip, activation = case
    s = derive.conv2d(image, kernels=filters, bias=bias, stride=stride, padding=padding, flip=flip,
                      activation=activation)
    x = torch.tensor([image], dtype=torch.float64)
    w = torch.tensor(filters, dtype=torch.float64)
    if flip:
        w = w.flip(-1, -2)
    as_torch = lambda v: tuple(v) if isinstance(v, list) else v
    y = TORCH_ACT[activation](TF.conv2d(x, w, torch.tensor(bias, dtype=torch.float64), stride=as_torch(stride),
                                        padding=as_torch(padding)))[0]
    got = torch.tensor(to_float(s.answers["output"]), dtype=torch.float64)
    assert got.shape == y.shape
    assert torch.allclose(got, y, rtol=1e-9, atol=1e-12)
    assert s.answers["output_shape"] == list(y.shape)
    assert all(type(n) is int for n in s.answers["output_shape"])


def test_single_kernel_gives_a_bare_matrix_and_three_entry_shape():
    s = derive.conv2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0], [0, -1]])
    assert s.answers["output"] == [[-4, -4], [-4, -4]]
    assert s.answers["output_shape"] == [1, 2, 2]
    s = derive.conv2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernels=[[[1, 0], [0, -1]]])
    assert s.answers["output"] == [[[-4, -4], [-4, -4]]]


def test_same_padding_with_an_even_kernel_pads_bottom_and_right_like_torch():
    image = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    s = derive.conv2d(image, [[1, 2], [3, 4]], padding="same")
    y = TF.conv2d(torch.tensor([[image]], dtype=torch.float64), torch.tensor([[[[1, 2], [3, 4]]]],
                  dtype=torch.float64), padding="same")[0, 0]
    assert to_float(s.answers["output"]) == y.tolist()
    assert s.answers["output"][2][2] == 9           # bottom-right entry: only the kernel's top-left tap is inside
    assert "Add zeros around the image: 1 row at the bottom, 1 column at the right." in s.steps[1].text


def test_worksheet_problem_7():
    sheet = derive.load("problems/worksheet.yaml")
    q7 = next(p for p in sheet.problems if p.id == "q7")
    s = derive.solve(q7)
    assert s.answers["output"] == [[0, 30, 30, 0]] * 4
    assert s.answers["output_shape"] == [1, 4, 4]
    note = " ".join(s.notes)
    assert "a vertical edge detector (Prewitt)" in note
    assert "the 30s mark the boundary between the bright left half and the dark right half" in note


def test_worked_entries_show_products_and_sums():
    s = derive.conv2d(Q7_IMAGE, PREWITT)
    worked = next(st_ for st_ in s.steps if st_.title == "Worked entries")
    text = "\n".join(worked.math)
    assert r"y_{0,1} = (10 \cdot 1 + 10 \cdot 0 + 0 \cdot (-1))" in text
    assert "= 10 + 10 + 10 = 30" in text
    assert r"\left\lfloor \frac{6 + 2 \cdot 0 - 3}{1} \right\rfloor + 1 = 4" in s.steps[0].math[0]


def test_figure_highlights_the_receptive_field_of_the_strongest_entry():
    s = derive.conv2d(Q7_IMAGE, PREWITT)
    slide = next(st_ for st_ in s.steps if st_.title == "Slide the kernel")
    assert "output entry (0, 1)" in slide.text
    fig = slide.figure
    assert fig.startswith(r"\begin{tikzpicture}") and fig.endswith(r"\end{tikzpicture}")
    assert fig.count("orange!40") == 9 + 1           # the 3×3 window and the output cell
    assert "\\\\" not in fig and "&" not in fig


def test_large_output_works_a_few_entries_not_pages():
    image = [[(i * j) % 7 for j in range(30)] for i in range(30)]
    s = derive.conv2d(image, [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
    worked = next(st_ for st_ in s.steps if st_.title == "Worked entries")
    assert len(worked.math) <= 9
    assert "The other entries follow the same rule" in worked.text
    slide = next(st_ for st_ in s.steps if st_.title == "Slide the kernel")
    assert slide.figure is None                      # 30×30 is too large to draw
    assert len(s.answers["output"]) == 28


def test_json_output_of_the_edge_filter(cli, spec_file, tmp_path):
    spec = spec_file("""
        title: t
        problems:
          - id: q7
            kind: conv2d
            image: [[10, 10, 10, 0, 0, 0], [10, 10, 10, 0, 0, 0], [10, 10, 10, 0, 0, 0],
                    [10, 10, 10, 0, 0, 0], [10, 10, 10, 0, 0, 0], [10, 10, 10, 0, 0, 0]]
            kernel: [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
        """)
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "out")
    assert result.code == 0, result.err
    answers = json.loads((tmp_path / "out" / "spec.json").read_text())["problems"][0]["answers"]
    assert answers["output"]["value"] == [[0, 30, 30, 0]] * 4
    assert answers["output_shape"]["value"] == [1, 4, 4]
    assert answers["output"]["exact"][0] == ["0", "30", "30", "0"]


def test_bias_and_activation_steps():
    s = derive.conv2d([[1, -2], [3, -4]], [[1]], bias=-1, activation="relu")
    assert s.answers["output"] == [[0, 0], [2, 0]]
    step = next(st_ for st_ in s.steps if st_.title == "Bias and activation")
    assert step.math[0].startswith("Z = R + (-1)")


def test_leaky_relu_slope():
    s = derive.conv2d([[1, -2]], [[1]], activation="leaky_relu", slope=0.1)
    assert s.answers["output"] == [[1, sympy.Rational(-1, 5)]]


# ---- the known-kernel catalogue -------------------------------------------------------------------

@pytest.mark.parametrize("known", K.CATALOGUE, ids=lambda k: f"{k.name}-{k.family}")
def test_every_catalogue_entry_is_recognised_at_scale_one(known):
    kernel = [list(row) for row in known.matrix]
    m = K.match(kernel)
    assert m is not None and m.known == known and m.scale == 1
    assert m.title().startswith(known.detects)


def _step(n: int, vertical: bool, size: int = 6) -> list:
    """Bright (9) before position n, dark (1) from n on, along columns (vertical edge) or rows."""
    img = [[9 if j < n else 1 for j in range(size)] for _ in range(size)]
    return img if vertical else [list(r) for r in zip(*img)]


@pytest.mark.parametrize("known", [k for k in K.CATALOGUE if k.family in ("vertical", "horizontal")],
                         ids=lambda k: f"{k.name}-{k.family}")
def test_edge_entries_find_the_boundary_of_a_step_image(known):
    vertical = known.family == "vertical"
    s = derive.conv2d(_step(3, vertical), [list(r) for r in known.matrix])
    sides = ("left", "right") if vertical else ("top", "bottom")
    note = s.notes[0]
    assert f"boundary between the bright {sides[0]} half and the dark {sides[1]} half" in note
    assert f"positive where the {sides[0]} side is brighter" in note


@pytest.mark.parametrize("known", [k for k in K.CATALOGUE if k.family == "laplacian"], ids=lambda k: k.name)
def test_laplacian_entries_give_zero_on_a_linear_ramp(known):
    ramp = [[2 * i + 3 * j for j in range(5)] for i in range(5)]
    s = derive.conv2d(ramp, [list(r) for r in known.matrix])
    assert all(v == 0 for row in s.answers["output"] for v in row)
    assert "0 wherever the image is flat or changes linearly" in s.notes[0]
    assert "the response is 0 everywhere" in s.notes[0]


@pytest.mark.parametrize("known", [k for k in K.CATALOGUE if k.family in ("blur", "sharpen", "identity")],
                         ids=lambda k: k.name)
def test_smoothing_sharpen_identity_entries_keep_a_flat_image(known):
    flat = [[7] * 6 for _ in range(6)]
    s = derive.conv2d(flat, [list(r) for r in known.matrix])
    assert all(v == 7 for row in s.answers["output"] for v in row)   # a mean, 5 − 4 neighbours, a copy: all keep 7
    assert s.notes and s.notes[0].startswith(f"The kernel is {known.detects} ({known.name}")


def test_identity_copies_the_image_interior():
    image = [[i * 4 + j for j in range(4)] for i in range(4)]
    s = derive.conv2d(image, [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert s.answers["output"] == [[5, 6], [9, 10]]


def test_scaled_and_negated_kernels_are_named_as_such():
    s = derive.conv2d(Q7_IMAGE, [[2, 0, -2]] * 3)
    assert "(Prewitt, scaled by 2)" in s.notes[0]
    assert "the 60s mark the boundary between the bright left half and the dark right half" in s.notes[0]
    s = derive.conv2d(Q7_IMAGE, [[-1, 0, 1]] * 3)
    assert "(Prewitt, negated)" in s.notes[0]
    assert "positive where the right side is brighter than the left" in s.notes[0]
    assert "the −30s mark the boundary" in s.notes[0]
    s = derive.conv2d(Q7_IMAGE, [[1, 1, 1]] * 3)
    assert "a mean blur (3×3 box, scaled by 9)" in s.notes[0]
    assert "each output entry is 9 times the mean of its window" in s.notes[0]


def test_a_negated_blur_and_unknown_kernels_get_no_story():
    assert K.match([[-1, -1, -1]] * 3) is None
    assert K.match([[1, 2], [3, 4]]) is None
    s = derive.conv2d(Q7_IMAGE, [[1, 2, 0], [0, 1, 0], [0, 0, 1]])
    assert s.notes == []


def test_flip_turns_prewitt_into_its_negation():
    s = derive.conv2d(Q7_IMAGE, PREWITT, flip=True)
    assert s.answers["output"] == [[0, -30, -30, 0]] * 4
    assert "(Prewitt, negated)" in s.notes[0]


def test_padding_gives_the_general_sentence_not_the_half_story():
    s = derive.conv2d(Q7_IMAGE, PREWITT, padding=1)
    note = s.notes[0]
    assert "boundary between" not in note
    assert "the strongest responses, 30 and −30, lie in output columns 0, 2, 3" in note


def test_bias_names_the_response_not_the_output():
    s = derive.conv2d(Q7_IMAGE, PREWITT, bias=1)
    assert "the responses of 30 (before the bias and activation) mark the boundary" in s.notes[0]


def test_several_filters_get_one_sentence_each():
    s = derive.conv2d(Q7_IMAGE, kernels=[PREWITT, [list(r) for r in zip(*PREWITT)], [[1, 2, 0]] * 3])
    assert len(s.notes) == 2
    assert s.notes[0].startswith("Filter 0: the kernel is a vertical edge detector")
    assert s.notes[1].startswith("Filter 1: the kernel is a horizontal edge detector")
    assert "the response is 0 everywhere: the image has no horizontal edge" in s.notes[1]


def test_same_kernel_on_every_channel_acts_on_the_channel_sum():
    s = derive.conv2d([Q7_IMAGE, Q7_IMAGE], [PREWITT, PREWITT])
    assert s.answers["output"] == [[0, 60, 60, 0]] * 4
    assert s.notes[0].startswith("Each channel of the filter is a vertical edge detector")


# ---- bad input: exact messages, exit status 2 --------------------------------------------------------

BAD = [
    ("image: [[1, 2, 3], [4, 5], [7, 8, 9]]\n    kernel: [[1]]",
     "spec.yaml:5: c.image[1]: ragged matrix: row 1 has 2 numbers, row 0 has 3"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1, 2, 3], [1, 2, 3], [1, 2, 3]]",
     "spec.yaml:6: c.kernel: the 3×3 kernel is larger than the padded image (2×2: the image is 2×2, padding 0)"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    stride: 0",
     "spec.yaml:7: c.stride: must be a positive whole number, got 0"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    padding: -1",
     "spec.yaml:7: c.padding: must be zero or a positive whole number (or valid or same), got -1"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    padding: sme",
     "spec.yaml:7: c.padding: expected a whole number, valid or same, got 'sme' (did you mean 'same'?)"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    padding: same\n    stride: 2",
     "spec.yaml:7: c.padding: padding 'same' needs stride 1, as in PyTorch (got stride 2); give the padding as "
     "a number to use a larger stride"),
    ("image: [[[1, 2], [3, 4]], [[1, 2], [3, 4]], [[0, 0], [0, 0]]]\n    kernel: [[1]]",
     "spec.yaml:6: c.kernel: the kernel has 1 channel but the image has 3; give one kernel matrix per image "
     "channel"),
    ("image: [[1, 2], [3, 4]]\n    kernels: [[[[1]], [[1]]]]",
     "spec.yaml:6: c.kernels[0]: filter 0 has 2 channels but the image has 1; give one kernel matrix per image "
     "channel"),
    ("image: [[1, 2], [3, 4]]\n    kernels: [[[1]], [[1, 1]]]",
     "spec.yaml:6: c.kernels[1]: filter 1 is 1×2, filter 0 is 1×1: all filters must have the same size"),
    ("image: [[1, 2], [3, 4]]\n    kernels: [[1, 0], [0, 1]]",
     "spec.yaml:6: c.kernels: expected a list of filters, got one matrix; write kernel: for one filter, "
     "or kernels: [[[…]]] for a list of one"),
    ("image: [[1, 2], [3, 4]]",
     "spec.yaml:3: c.kernel: required: give kernel (one filter) or kernels (a list of filters)"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    kernels: [[[1]]]",
     "spec.yaml:7: c.kernels: give either kernel (one filter) or kernels (a list of filters), not both"),
    ("image: [[1, 2], [3, 4]]\n    kernels: [[[1]], [[2]]]\n    bias: [1, 2, 3]",
     "spec.yaml:7: c.bias: expected one bias per filter (2), got 3"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    slope: 0.2",
     "spec.yaml:7: c.slope: slope only applies to activation leaky_relu"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    stirde: 2",
     "spec.yaml:7: c.stirde: unknown field for kind conv2d (did you mean 'stride'?); allowed: activation, bias, "
     "dilation, flip, groups, image, kernel, kernels, padding, slope, stride, upstream, check, digits, id, kind, "
     "seed, statement, title"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    padding: 300",
     "spec.yaml:7: c.padding: the padded image would be 602×602, more than the limit of 512 rows or columns "
     "(limit 'matrix_side')"),
]


@pytest.mark.parametrize("fields,message", BAD)
def test_bad_conv_specs_exit_2_with_exact_messages(bad_spec, fields, message):
    assert bad_spec(f"title: t\nproblems:\n  - id: c\n    kind: conv2d\n    {fields}\n") == message


def test_an_image_past_the_size_limit_is_refused_quickly(cli, spec_file, tmp_path):
    rows = "\n".join("      - [0]" for _ in range(513))
    spec = spec_file(f"title: t\nproblems:\n  - id: c\n    kind: conv2d\n    kernel: [[1]]\n    image:\n{rows}\n")
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "out")
    assert result.code == 2
    assert result.err.strip() == f"{spec}:6: c.image: 513 rows is more than the limit of 512 (limit 'matrix_side')"


def test_an_output_past_the_numbers_limit_is_refused(cli, spec_file, tmp_path):
    spec = spec_file("title: t\nproblems:\n  - id: c\n    kind: conv2d\n    image: [[1]]\n    kernel: [[1]]\n"
                     "    padding: 200\n")
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "out", "--limit", "numbers=1000")
    assert result.code == 2
    assert result.err.strip() == (f"{spec}:5: c.image: the output would have 160,801 numbers, more than the limit "
                                  "of 1,000 (limit 'numbers')")


@pytest.mark.skipif(not shutil.which("pdflatex"), reason="TeX Live is not installed")
def test_figures_of_all_three_image_kinds_compile(cli, spec_file, tmp_path):
    spec = spec_file("""
        title: figures
        problems:
          - id: c
            kind: conv2d
            image: [[[1, 2, 0, -1], [0.5, 1, 3, 2], [2, 0, 1, 1]], [[0, 1, 1, 0], [1, 0, 0, 1], [2, 2, 1, 1]]]
            kernels: [[[[1, 2], [0, 1]], [[0.5, 0], [0, "1/3"]]]]
            padding: 1
            stride: [1, 2]
            activation: sigmoid
            flip: true
          - id: e
            kind: conv2d
            image: [[10, 10, 0, 0], [10, 10, 0, 0], [10, 10, 0, 0]]
            kernel: [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
          - id: p
            kind: pool
            image: [[1, 3, 2, 4, 0], [5, 6, 7, 8, 1], [3, 2, 1, 0, 2]]
            size: 2
          - id: d
            kind: dropout
            activations: [[1, 2, 3], [4, 5, 6]]
            keep_prob: 0.5
        """)
    result = cli("build", spec, "-o", tmp_path / "out")
    assert result.code == 0, result.err
    text = subprocess.run(["pdftotext", tmp_path / "out" / "spec.pdf", "-"], capture_output=True, text=True).stdout
    for heading in ("Slide the kernel", "Pool each window", "Apply the mask and scale by 1/p"):
        assert heading in text
    assert "The kernel is a vertical edge detector (Prewitt)" in text


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 8), st.data())
def test_edge_story_names_the_right_sides_of_any_two_part_image(width, data):
    b = data.draw(st.integers(1, width - 1))
    left, right = data.draw(st.tuples(st.integers(-9, 9), st.integers(-9, 9)).filter(lambda t: t[0] != t[1]))
    known = data.draw(st.sampled_from([k for k in K.CATALOGUE if k.family == "vertical"]))
    sign = data.draw(st.sampled_from([1, -1, 2]))
    kernel = [[sign * v for v in row] for row in known.matrix]
    image = [[left if j < b else right for j in range(width)] for _ in range(4)]
    note = derive.conv2d(image, kernel).notes[0]
    part = lambda n: "half" if 2 * b == width else f"part ({n} column{'s' if n != 1 else ''})"
    bright, dark = ("bright", "dark") if left > right else ("dark", "bright")
    assert f"boundary between the {bright} left {part(b)} and the {dark} right {part(width - b)}" in note
    first = "left" if sign > 0 else "right"
    assert f"positive where the {first} side is brighter" in note


# ---- dilation, groups and the backward pass (SPEC §13) ------------------------------------------------

TORCH_ACTS = {"linear": lambda t: t, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
              "leaky_relu": lambda t: TF.leaky_relu(t, 0.1)}


@st.composite
def layer_cases(draw):
    """A small random layer: groups, dilation, stride, padding, activation, flip and an upstream gradient."""
    g = draw(st.sampled_from([1, 1, 2]))
    c, f = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    h, w = draw(st.integers(2, 6)), draw(st.integers(2, 6))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = draw(st.sampled_from([1, 1, 2, [1, 2], [2, 1]]))
    padding = draw(st.sampled_from([0, 1, [1, 0], [0, 2], "valid", "same"]))
    stride = 1 if padding == "same" else draw(st.sampled_from([1, 2, [1, 2], [2, 1]]))
    dr, dc = dilation if isinstance(dilation, list) else (dilation, dilation)
    if padding == "valid":
        ph, pw = 0, 0
    elif padding == "same":
        ph, pw = dr * (kh - 1), dc * (kw - 1)
    else:
        ph, pw = (2 * padding[0], 2 * padding[1]) if isinstance(padding, list) else (2 * padding, 2 * padding)
    assume(dr * (kh - 1) + 1 <= h + ph and dc * (kw - 1) + 1 <= w + pw)
    image = [[[draw(values) for _ in range(w)] for _ in range(h)] for _ in range(c)]
    filters = [[[[draw(values) for _ in range(kw)] for _ in range(kh)] for _ in range(c // g)] for _ in range(f)]
    bias = [draw(values) for _ in range(f)]
    activation = draw(st.sampled_from(["linear", "relu", "leaky_relu", "sigmoid", "tanh"]))
    return dict(image=image, kernels=filters, bias=bias, stride=stride, padding=padding, dilation=dilation,
                groups=g, flip=draw(st.booleans()), activation=activation,
                **({"slope": 0.1} if activation == "leaky_relu" else {}))


def _torch_layer(case: dict, upstream: list | None = None):
    """PyTorch's output and (with an upstream) the gradients of the image, the filters and the bias."""
    pair = lambda v: tuple(v) if isinstance(v, list) else v
    x = torch.tensor([case["image"]], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(case["kernels"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(case["bias"], dtype=torch.float64, requires_grad=True)
    z = TF.conv2d(x, w.flip(-1, -2) if case["flip"] else w, b, stride=pair(case["stride"]),
                  padding=pair(case["padding"]), dilation=pair(case["dilation"]), groups=case["groups"])
    y = TORCH_ACTS[case["activation"]](z)
    if upstream is not None:
        y.backward(torch.tensor([upstream], dtype=torch.float64))
    return y[0], x.grad, w.grad, b.grad


def _close(got, want) -> bool:
    got = torch.tensor(to_float(got), dtype=torch.float64)
    return got.shape == want.shape and torch.allclose(got, want, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(layer_cases(), st.data())
def test_layer_forward_and_backward_match_torch_autograd(case, data):
    y, *_ = _torch_layer(case)
    upstream = [[[data.draw(values) for _ in range(y.shape[2])] for _ in range(y.shape[1])] for _ in range(y.shape[0])]
    y, gx, gw, gb = _torch_layer(case, upstream)
    s = derive.conv2d(**case, upstream=upstream)
    assert _close(s.answers["output"], y)
    assert _close(s.answers["grad_image"], gx[0])
    assert _close(s.answers["grad_kernels"], gw)
    assert _close(s.answers["grad_bias"], gb)


@settings(max_examples=15, deadline=None)
@given(layer_cases(), st.data())
def test_one_kernel_gives_grad_kernel_and_a_scalar_grad_bias(case, data):
    case = dict(case, kernels=case["kernels"][:1], bias=case["bias"][:1], groups=1,
                image=case["image"][:len(case["kernels"][0])])
    y, *_ = _torch_layer(case)
    upstream = [[data.draw(values) for _ in range(y.shape[2])] for _ in range(y.shape[1])]
    y, gx, gw, gb = _torch_layer(case, [upstream])
    fields = dict(case, kernel=case["kernels"][0], bias=case["bias"][0])
    del fields["kernels"]
    s = derive.conv2d(**fields, upstream=upstream)
    assert list(s.answers) == ["output", "output_shape", "grad_image", "grad_kernel", "grad_bias"]
    assert _close(s.answers["grad_kernel"], gw[0])
    assert _close([s.answers["grad_bias"]], gb)
    assert _close(s.answers["grad_image"], gx[0])


RELU_LAYER = dict(image=[[1, 2, 0, 1], [0, 1, 3, 2], [2, 1, 1, 0], [1, 0, 2, 3]], kernel=[[1, -1], [2, 0]], bias=1,
                  activation="relu", upstream=[[1, -1, 2], [0, 1, 1], [2, 0, -1]])


def test_backward_steps_as_a_teacher_writes_them():
    s = derive.conv2d(**RELU_LAYER)
    titles = [st_.title for st_ in s.steps]
    assert titles[-4:] == ["Backward: through the activation", "Gradient of the bias",
                           "Gradient of the kernel: the input cross-correlated with δ",
                           "Gradient of the image: full convolution with the flipped kernel"]
    delta, bias, kernel, image = s.steps[-4:]
    assert "Here Z is exactly 0 at (0, 0): the derivative there is taken as 0." in delta.text
    assert delta.math[1].startswith(r"\delta = G \odot f'(Z) = \begin{bmatrix}0 & -1 & 2")
    assert bias.math[0].endswith("= 0 - 1 + 2 + 0 + 1 + 1 + 2 + 0 - 1 = 4")
    assert "sum (not their mean)" in bias.text
    assert kernel.math[2] == r"\frac{\partial L}{\partial K} = \begin{bmatrix}5 & 9 \\ 7 & -1\end{bmatrix}"
    assert image.math[1] == r"\operatorname{rot180}(K) = \begin{bmatrix}0 & 2 \\ -1 & 1\end{bmatrix}"
    assert r"\tilde{\delta}^{\text{pad}} \star \operatorname{rot180}(K)" in image.math[2]
    assert s.answers["grad_image"] == [[0, -1, 3, -2], [0, -1, 4, -1], [2, 0, 1, 1], [4, 0, -2, 0]]
    assert s.answers["grad_kernel"] == [[5, 9], [7, -1]] and s.answers["grad_bias"] == 4
    assert any(c.startswith(r"$\sum \delta \odot (Z - b) = \sum K \odot \partial L/\partial K = \sum X \odot "
                            r"\partial L/\partial X$ = 10") for c in s.checks)


def test_stride_dilates_the_upstream_and_padding_is_cropped():
    s = derive.conv2d([[1, 2, 0, 1, 2], [0, 1, 3, 2, 1], [2, 1, 1, 0, 0], [1, 0, 2, 3, 1], [0, 1, 1, 2, 2]],
                      [[1, 2], [0, -1]], stride=2, padding=1, upstream=[[1, 2, 3], [0, -1, 1], [2, 1, 0]])
    image = s.steps[-1]
    assert image.math[0].startswith(r"\tilde{\delta} = \operatorname{dilate}_{s}(\delta) = \begin{bmatrix}1 & 0 & 2")
    assert "δ is first dilated by the stride" in image.text and "cropped off" in image.text
    assert image.math[-1].startswith(r"\frac{\partial L}{\partial X} = ")
    assert image.math[-2].startswith(r"\frac{\partial L}{\partial X^{\text{pad}}} = ")


def test_a_dilated_kernel_is_dilated_before_it_is_flipped():
    s = derive.conv2d([[i * 5 + j for j in range(5)] for i in range(5)], [[1, 2], [3, 4]], dilation=2,
                      upstream=[[1, 0, 0], [0, 0, 0], [0, 0, 1]])
    assert s.answers["output_shape"] == [1, 3, 3]
    assert r"\left\lfloor \frac{5 + 2 \cdot 0 - 2 \cdot (2 - 1) - 1}{1} \right\rfloor + 1 = 3" in s.steps[0].math[0]
    assert "spans d(k − 1) + 1: 3×3" in s.steps[0].text
    flipped = next(m for m in s.steps[-1].math if m.startswith(r"\operatorname{rot180}"))
    assert flipped == (r"\operatorname{rot180}(K^{\text{dil}}) = \begin{bmatrix}4 & 0 & 3 \\ 0 & 0 & 0 \\ 2 & 0 & "
                       r"1\end{bmatrix}")


def test_groups_split_the_channels_and_the_step_says_so():
    image = [[[1, 2], [3, 4]], [[0, 1], [1, 0]], [[2, 2], [1, 1]], [[1, 0], [0, 1]]]
    s = derive.conv2d(image, kernels=[[[[1]], [[2]]], [[[1]], [[-1]]]], groups=2, upstream=[[[1, 0], [0, 1]],
                                                                                           [[1, 1], [1, 1]]])
    assert s.answers["output"] == [[[1, 4], [5, 4]], [[1, 2], [1, 0]]]
    assert "each filter sees only the 2 channels of its own group" in s.steps[0].text
    assert s.answers["grad_image"] == [[[1, 0], [0, 1]], [[2, 0], [0, 2]], [[1, 1], [1, 1]], [[-1, -1], [-1, -1]]]


def test_sigmoid_gradients_are_exact_expressions():
    s = derive.conv2d([[0, 1], [2, 0]], [[1]], activation="sigmoid", upstream=[[1, 1], [1, 1]])
    assert s.answers["grad_bias"] == sympy.Rational(1, 2) + sympy.exp(-1) / (1 + sympy.exp(-1)) ** 2 \
        + sympy.exp(-2) / (1 + sympy.exp(-2)) ** 2
    assert r"$\sigma'(z) = \sigma(z)(1 - \sigma(z)) = y(1 - y)$." in s.steps[-4].text


def test_question_sheet_hides_dilation_and_groups_when_default():
    from derive.kinds.conv2d import KIND
    plain = derive.engine.as_problem({"id": "c", "kind": "conv2d", "image": [[1, 2], [3, 4]], "kernel": [[1]]})
    labels = [label for label, _ in KIND.given(plain)]
    assert "dilation" not in labels and "groups" not in labels
    dilated = derive.engine.as_problem({"id": "c", "kind": "conv2d", "image": [[1, 2, 3], [3, 4, 5], [1, 1, 1]],
                                        "kernel": [[1, 1], [1, 1]], "dilation": 2, "upstream": [[1]]})
    labels = [label for label, _ in KIND.given(dilated)]
    assert "dilation" in labels and "upstream" in labels


def _check_json(cli, spec_file, tmp_path, spec: str, answers: str) -> dict:
    spec_path = spec_file(spec)
    answers_path = tmp_path / "answers.yaml"
    answers_path.write_text(answers)
    result = cli("check", spec_path, answers_path, "--json")
    assert result.code in (0, 1), result.err
    return json.loads(result.out)


RELU_SPEC = """
title: t
problems:
  - id: c
    kind: conv2d
    image: [[1, 2, 0, 1], [0, 1, 3, 2], [2, 1, 1, 0], [1, 0, 2, 3]]
    kernel: [[1, -1], [2, 0]]
    bias: 1
    activation: relu
    upstream: [[1, -1, 2], [0, 1, 1], [2, 0, -1]]
"""


def _unflipped_grad_image() -> str:
    """The relu layer's ∂L/∂X slid with K itself: δ padded by k − 1 and cross-correlated (not flipped) with K."""
    delta = torch.tensor([[[[0, -1, 2], [0, 1, 1], [2, 0, -1]]]], dtype=torch.float64)   # G with relu′(Z) applied
    wrong = TF.conv2d(TF.pad(delta, (1, 1, 1, 1)), torch.tensor([[RELU_LAYER["kernel"]]], dtype=torch.float64))
    return str([[int(v) for v in row] for row in wrong[0, 0].tolist()])


@pytest.mark.parametrize("answer,given,words", [
    ("grad_image", _unflipped_grad_image(), "the kernel not flipped in ∂L/∂X"),
    ("grad_kernel", str(derive.conv2d(**dict(RELU_LAYER, activation="linear")).answers["grad_kernel"]),
     "not multiplied by the relu's derivative"),
    ("grad_bias", "0.4444", "∂L/∂b averaged over the 9 output positions"),
])
def test_backward_slips_are_named(cli, spec_file, tmp_path, answer, given, words):
    report = _check_json(cli, spec_file, tmp_path, RELU_SPEC, f"c:\n  {answer}: {given}\n")
    wrong = [a for a in report["problems"][0]["answers"] if not a["ok"]]
    assert wrong and all(words in (a["slip"] or "") for a in wrong), wrong


def test_gradients_follow_through_from_the_students_output(cli, spec_file, tmp_path):
    # Output (0, 0) given as 2 instead of 0: relu′ is then 1 there, so δ(0, 0) = 1 and ∂L/∂b = 5 follows from it.
    report = _check_json(cli, spec_file, tmp_path, RELU_SPEC,
                         "c:\n  output: [[2, 5, 6], [4, 1, 4], [4, 1, 6]]\n  grad_bias: 5\n")
    bias = next(a for a in report["problems"][0]["answers"] if a["name"] == "grad_bias")
    assert not bias["ok"] and bias["carried"] is True


BAD_LAYER = [
    ("image: [[[1, 2], [3, 4]], [[1, 2], [3, 4]], [[0, 0], [0, 0]]]\n    kernels: [[[[1]]], [[[1]]]]\n    groups: 2",
     "spec.yaml:7: c.groups: groups 2 does not divide the image's 3 channels: each group needs the same number of "
     "channels"),
    ("image: [[[1, 2], [3, 4]], [[1, 2], [3, 4]]]\n    kernels: [[[[1]]], [[[1]]], [[[1]]]]\n    groups: 2",
     "spec.yaml:7: c.groups: groups 2 does not divide the 3 filters: each group needs the same number of filters"),
    ("image: [[[1, 2], [3, 4]], [[1, 2], [3, 4]]]\n    kernel: [[[1]]]\n    groups: 2",
     "spec.yaml:7: c.groups: groups 2 does not divide the 1 filter (kernel: is one filter; give kernels: for more): "
     "each group needs the same number of filters"),
    ("image: [[[1, 2], [3, 4]], [[1, 2], [3, 4]]]\n    kernels: [[[[1]], [[1]]], [[[1]], [[1]]]]\n    groups: 2",
     "spec.yaml:6: c.kernels[0]: filter 0 has 2 channels but groups 2 gives each filter 2 / 2 = 1 of the image's "
     "channels; give one kernel matrix per channel of its group"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    dilation: 0",
     "spec.yaml:7: c.dilation: must be a positive whole number, got 0"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    dilation: [1, 0]",
     "spec.yaml:7: c.dilation[1]: must be a positive whole number, got 0"),
    ("image: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\n    kernel: [[1, 2], [3, 4]]\n    dilation: 3",
     "spec.yaml:6: c.kernel: the 2×2 kernel (dilation 3: it spans 4×4) is larger than the padded image (3×3: the "
     "image is 3×3, padding 0)"),
    ("image: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\n    kernel: [[1, 2], [3, 4]]\n    upstream: [[1, 2, 3], [4, 5, 6]]",
     "spec.yaml:7: c.upstream: expected the output's shape, 2×2 (rows × columns), got 2×3"),
    ("image: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\n    kernels: [[[1, 2], [3, 4]]]\n    upstream: [[1, 2], [3, 4]]",
     "spec.yaml:7: c.upstream: expected the output's shape, 1×2×2 (filters × rows × columns), got 2×2"),
    ("image: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    groups: 0",
     "spec.yaml:7: c.groups: must be a positive whole number, got 0"),
]


@pytest.mark.parametrize("fields,message", BAD_LAYER)
def test_bad_layer_specs_exit_2_with_exact_messages(bad_spec, fields, message):
    assert bad_spec(f"title: t\nproblems:\n  - id: c\n    kind: conv2d\n    {fields}\n") == message


# ---- a readable key at real sizes (SPEC §15) -----------------------------------------------------------------

import re   # noqa: E402

from derive.kinds import _conv_grid as R   # noqa: E402
from derive.kinds import _images as I   # noqa: E402
from derive.kinds.conv2d import KIND as CONV   # noqa: E402
from derive.render import render_solution   # noqa: E402

LARGE = "tests/layout_specs/conv_large.yaml"


def _large():
    """The 8-filter, 4-channel, 8-decimal problem of the layout specs: (problem, solution)."""
    problem = derive.load(LARGE).problems[0]
    return problem, derive.solve(problem)


def _titled(s, title):
    return next(st_ for st_ in s.steps if st_.title == title)


def _channels(n, side=3):
    return [[[c + i - j for j in range(side)] for i in range(side)] for c in range(n)]


def test_a_range_of_one_is_named_alone():
    assert R.span_text("channel", 3, 3) == "channel 3"
    assert R.span_text("channel", 3, 4) == "channels 3 and 4"
    assert R.span_text("channel", 3, 5) == "channels 3 to 5"


def test_padding_four_channels_writes_them_all_never_channels_3_to_3():
    s = derive.conv2d(_channels(4), [[[1]]] * 4, padding=1)
    pad = _titled(s, "Pad the input with zeros")
    assert "3 to 3" not in pad.text and "likewise" not in pad.text
    assert len(pad.math) == 4
    s = derive.conv2d(_channels(5), [[[1]]] * 5, padding=1)
    pad = _titled(s, "Pad the input with zeros")
    assert "(channels 3 and 4 likewise)" in pad.text and len(pad.math) == 3


def test_four_filters_are_all_flipped_and_backpropagated_never_filters_3_to_3():
    filters = [[[[n, 1], [0, -1]]] for n in range(4)]
    s = derive.conv2d([[1, 2, 0], [0, 1, 3], [2, 1, 1]], kernels=filters, flip=True,
                      upstream=[[[1, 0], [0, 1]]] * 4)
    texts = " ".join(st_.text for st_ in s.steps) + " ".join(m for st_ in s.steps for m in st_.math)
    assert "3 to 3" not in texts
    assert len(_titled(s, "Flip the kernel (true convolution)").math) == 4


def test_worked_entries_say_what_they_group_never_the_window_under_it_and_channel():
    two = derive.conv2d([[[1, 2, 0], [0, 1, 3], [2, 1, 1]]] * 2, [[[1, -1], [0, 2]]] * 2)
    text = _titled(two, "Worked entries").text
    assert "grouped by kernel row, channel after channel." in text and "under it" not in text
    one = _titled(derive.conv2d(Q7_IMAGE, PREWITT), "Worked entries").text
    assert "the window of the input it covers, grouped by kernel row." in one
    _, s = _large()
    text = _titled(s, "Worked entries").text
    assert "under it" not in text and "and channel." not in text
    assert "over all 4 channels. Entry (1, 3) of filter 0 is written out in full, channel by channel" in text


def test_large_worked_entries_show_their_numbers_as_given():
    _, s = _large()
    lines = _titled(s, "Worked entries").math
    text = "\n".join(lines)
    assert r"(-0.73645409) \cdot (-1.09)" in text                   # products of the given decimals, in full
    assert sum(line.startswith("s_{") for line in lines) == 4       # channel by channel
    assert r"r^{(0)}_{1,3} = s_{0} + s_{1} + s_{2} + s_{3} = 0.4405542593 + 2.7164395103" in text
    assert r"\odot K^{(1)}_{c}\right) = 2.2894278145 + 2.8402786605 - 1.8847519475 + 0.9159296864 = 4.1608842139" \
        in text                                                     # the other entries by their channel sums
    assert r"\frac" not in text


def test_the_kernels_are_shown_in_the_key_one_filter_per_line():
    _, s = _large()
    filters = _titled(s, "The filters")
    assert len(filters.math) == 8
    assert all(line.count(r"\begin{bmatrix}") == 4 and r"\text{channel 3}" in line for line in filters.math)
    assert filters.math[0].startswith(r"K^{(0)} = \overset{\text{channel 0}}{\begin{bmatrix}-1.09 & 1.46 & -0.05")
    assert filters.math[7].endswith(r"\qquad {b_{7} = -0.67247275}")


def test_given_decimals_are_never_fractions_in_the_key():
    _, s = _large()
    tex = render_solution(s)
    assert re.search(r"\\frac\{\d+\}\{\d{5,}\}|\d{7,}/\d{7,}", tex) is None
    assert "0.34558419" in tex and "0.28693364" in tex and "-10.3448984861" in tex


def test_many_filters_answer_one_per_row_and_the_linear_bias_is_not_repeated():
    _, s = _large()
    output = next(a for a in s.answer_list if a.name == "output")
    assert output.display.startswith(r"\left\{\begin{array}")
    assert all(f"Y_{{{n}}} = " in output.display for n in range(8)) and r"\vdots" not in output.display
    assert [st_.title for st_ in s.steps].count("Bias") == 0
    assert _titled(s, "Bias and output").math[0].startswith("Y_{0} = R_{0} + 0.28693364 = ")


def test_one_small_output_keeps_the_plain_answer_line():
    s = derive.conv2d(Q7_IMAGE, PREWITT)
    assert all(a.display is None for a in s.answer_list)


def test_question_sheet_shows_the_image_and_every_kernel_as_written():
    problem, _ = _large()
    given = CONV.given(problem)
    labels = [label for label, _ in given]
    assert labels[:4] == [f"image, channel {c}" for c in range(4)]
    assert [f"kernels[{n}]" for n in range(8)] == [label for label in labels if label.startswith("kernels")]
    kernels = dict(given)
    assert kernels["kernels[0]"].count(r"\begin{bmatrix}") == 4
    assert "-0.0" in kernels["kernels[0]"] and "1.0" in kernels["kernels[4]"]     # as written, not 0 and 1
    assert "0.34558419 & 0.82161814" in kernels["image, channel 0"]


def test_groups_of_one_channel_are_named_in_the_singular():
    s = derive.conv2d(_channels(2), kernels=[[[1]], [[2]]], groups=2)
    assert "each filter sees only the 1 channel of its own group" in s.steps[0].text


def test_a_long_rational_in_prose_is_its_decimal_with_approx():
    assert I.value_text(sympy.Rational(-730137728397, 250000000000)) == "≈ −2.921"
    assert I.value_text(sympy.Rational(1, 3)) == "1/3" and I.value_text(sympy.Rational(5, 2)) == "2.5"


def test_a_matrix_wider_than_the_page_is_set_in_blocks_of_columns():
    wide = [[sympy.Rational(f"-1.{i}{j}3456789") for j in range(10)] for i in range(3)]
    lines = R.matrix_lines("Y", wide, 4)
    assert len(lines) >= 2 and all(R.matrix_units(line) <= R.LINE for line in lines)
    assert r"\text{columns 0 to" in lines[0]


def test_an_output_after_an_activation_is_written_once():
    s = derive.conv2d(_channels(2, 4), kernels=[[[[1, 0], [0, -1]]] * 2] * 5, bias=[1, -1, 0.5, 0, 2],
                      activation="sigmoid")
    act, out = _titled(s, "Bias and activation"), _titled(s, "The output")
    assert sum(line.startswith("Y_{") for line in act.math) == 3
    assert [line.split(" ")[0] for line in out.math] == ["Y_{3}", "Y_{4}"]
    assert "$Y_0$ to $Y_2$ are written above, after the activation." in out.text
    assert act.math[1].startswith(r"Y_{0} = \sigma(Z_{0}) \approx \begin{bmatrix}0.")    # decimals, not e^{…}


def test_a_wide_image_on_the_sheet_is_a_matrix_per_channel_when_it_fits():
    problem = derive.load("tests/layout_specs/conv_wide.yaml").problems[0]
    given = dict(CONV.given(problem))
    assert [label for label in given if label.startswith("image")] == [f"image, channel {c}" for c in range(3)]
    assert given["image, channel 0"].startswith(r"\begin{bmatrix}0.03 & 1.36 & 1.22")
