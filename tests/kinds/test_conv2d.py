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
