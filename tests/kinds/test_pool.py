"""pool against PyTorch (F.max_pool2d, F.avg_pool2d), the worked windows, and bad input."""
import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings, strategies as st

import derive
from derive.verify import to_float

values = st.integers(-20, 20).map(lambda n: n / 4)


@st.composite
def pool_cases(draw):
    c = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    size = kh if kh == kw and draw(st.booleans()) else [kh, kw]
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    image = [[[draw(values) for _ in range(w)] for _ in range(h)] for _ in range(c)]
    mode = draw(st.sampled_from(["max", "avg"]))
    bare = c == 1 and draw(st.booleans())
    return image[0] if bare else image, size, stride, mode


@settings(max_examples=50, deadline=None)
@given(pool_cases())
def test_pool_matches_torch(case):
    image, size, stride, mode = case
    fields = {"mode": mode}
    if stride is not None:
        fields["stride"] = list(stride) if isinstance(stride, tuple) else stride
    s = derive.pool(image, size, **fields)
    x = torch.tensor(image, dtype=torch.float64)
    x = x[None, None] if x.dim() == 2 else x[None]
    k = tuple(size) if isinstance(size, list) else size
    fn = TF.max_pool2d if mode == "max" else TF.avg_pool2d
    y = fn(x, k, stride=stride if stride is not None else None)[0]
    got = torch.tensor(to_float(s.answers["output"]), dtype=torch.float64)
    want = y[0] if isinstance(image[0][0], (int, float)) else y
    assert got.shape == want.shape
    assert torch.allclose(got, want, rtol=1e-9, atol=1e-12)


def test_max_positions_are_shown_and_agree_with_torch_indices():
    image = [[1, 3, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
    s = derive.pool(image, 2)
    assert s.answers["output"] == [[6, 8], [3, 4]]
    lines = next(st_ for st_ in s.steps if st_.title == "Pool each window").math
    _, idx = TF.max_pool2d(torch.tensor([[image]], dtype=torch.float64), 2, return_indices=True)
    for line, flat_index in zip(lines, idx.flatten().tolist()):
        assert line.endswith(rf"\text{{at }} ({flat_index // 4}, {flat_index % 4})")
    assert lines[0] == r"y_{0,0} = \max(1, 3, 5, 6) = 6 \quad \text{at } (1, 1)"


def test_a_tie_takes_the_first_maximum_in_reading_order_like_torch():
    image = [[2, 7, 7, 1], [7, 0, 7, 7]]
    s = derive.pool(image, 2)
    _, idx = TF.max_pool2d(torch.tensor([[image]], dtype=torch.float64), 2, return_indices=True)
    lines = next(st_ for st_ in s.steps if st_.title == "Pool each window").math
    assert idx.flatten().tolist() == [1, 2]
    assert lines[0].endswith(r"\text{at } (0, 1)") and lines[1].endswith(r"\text{at } (0, 2)")


def test_average_shows_the_sum_over_the_count_exactly():
    s = derive.pool([[1, 2], [3, 5]], 2, mode="avg")
    assert s.answers["output"] == [[sympy.Rational(11, 4)]]
    line = next(st_ for st_ in s.steps if st_.title == "Pool each window").math[0]
    assert line == r"y_{0,0} = \frac{1 + 2 + 3 + 5}{4} = 2.75"


def test_partial_windows_are_dropped_and_said_so():
    s = derive.pool([[1, 2, 3, 4, 5]] * 5, 2)
    assert len(s.answers["output"]) == 2 and len(s.answers["output"][0]) == 2
    assert "the last 1 row(s) and the last 1 column(s) are not used" in s.steps[0].text


def test_channels_pool_separately_and_answer_one_matrix_each():
    s = derive.pool([[[1, 2], [3, 4]], [[-1, -2], [-3, -4]]], 2)
    assert s.answers["output"] == [[[4]], [[-1]]]


def test_figure_colours_each_window_and_boxes_the_max():
    s = derive.pool([[1, 3, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], 2)
    fig = next(st_ for st_ in s.steps if st_.title == "Pool each window").figure
    assert fig.startswith(r"\begin{tikzpicture}")
    assert fig.count("very thick") == 4                 # the four maxima
    for colour in ("blue!18", "orange!35", "green!22", "red!18"):
        assert fig.count(colour) == 4 + 1              # a window of 4 cells and its output cell


def test_overlapping_windows_highlight_only_the_first():
    s = derive.pool([[1, 3, 2], [5, 6, 7], [3, 2, 1]], 2, stride=1)
    fig = next(st_ for st_ in s.steps if st_.title == "Pool each window").figure
    assert fig.count("blue!18") == 4 + 1 and "orange!35" not in fig


BAD = [
    ("image: [[1, 2], [3, 4]]\n    size: 3",
     "spec.yaml:6: p.size: the 3×3 window is larger than the 2×2 image (pooling never pads)"),
    ("image: [[1, 2], [3, 4]]\n    size: 1\n    stride: 0",
     "spec.yaml:7: p.stride: must be a positive whole number, got 0"),
    ("image: [[1, 2], [3, 4]]\n    size: 0",
     "spec.yaml:6: p.size: must be a positive whole number, got 0"),
    ("image: [[1, 2], [3, 4]]\n    size: [1, 2, 3]",
     "spec.yaml:6: p.size: expected one whole number or two, [rows, cols]"),
    ("image: [[1, 2], [3]]\n    size: 1",
     "spec.yaml:5: p.image[1]: ragged matrix: row 1 has 1 numbers, row 0 has 2"),
    ("image: [[1, 2], [3, 4]]\n    size: 1\n    mode: mean",
     "spec.yaml:7: p.mode: expected one of max, avg, got 'mean'"),
    ("image: [[[1, 2], [3, 4]], [[1, 2]]]\n    size: 1",
     "spec.yaml:5: p.image[1]: channel 1 is 1×2, channel 0 is 2×2: all channels must have the same size"),
]


@pytest.mark.parametrize("fields,message", BAD)
def test_bad_pool_specs_exit_2_with_exact_messages(bad_spec, fields, message):
    assert bad_spec(f"title: t\nproblems:\n  - id: p\n    kind: pool\n    {fields}\n") == message


def test_an_image_past_the_size_limit_is_refused(cli, spec_file, tmp_path):
    row = "[" + ", ".join("0" for _ in range(600)) + "]"
    spec = spec_file(f"title: t\nproblems:\n  - id: p\n    kind: pool\n    size: 2\n    image: [{row}]\n")
    result = cli("build", spec, "--no-pdf", "-o", tmp_path / "out")
    assert result.code == 2
    assert result.err.strip() == (f"{spec}:6: p.image[0]: 600 entries is more than the limit of 512 "
                                  "(limit 'matrix_side')")


# ---- padding, ceil_mode and the backward pass (SPEC §13) ---------------------------------------------

import json   # noqa: E402

from derive.errors import SpecError   # noqa: E402


@st.composite
def padded_cases(draw):
    """Windows, strides, padding up to half the window, ceil_mode, a mode, and an image they fit."""
    c = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    ceil = draw(st.booleans())      # with ceil_mode a window may be larger than the image, as long as it has a place
    h = draw(st.integers(1 if ceil else max(1, kh - 2 * ph), 7))
    w = draw(st.integers(1 if ceil else max(1, kw - 2 * pw), 7))
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2)))
    image = [[[draw(st.integers(-3, 3)) / 2 for _ in range(w)] for _ in range(h)] for _ in range(c)]
    return dict(image=image if c > 1 else image[0], size=[kh, kw], stride=stride, padding=[ph, pw],
                ceil_mode=ceil, mode=draw(st.sampled_from(["max", "avg"])))


def _torch_pool(case: dict, upstream: list | None = None):
    x = torch.tensor(case["image"], dtype=torch.float64)
    x = (x[None, None] if x.dim() == 2 else x[None]).requires_grad_(True)
    stride = tuple(case["stride"]) if isinstance(case["stride"], list) else case["stride"]
    fn = TF.max_pool2d if case["mode"] == "max" else TF.avg_pool2d
    y = fn(x, tuple(case["size"]), stride=stride, padding=tuple(case["padding"]), ceil_mode=case["ceil_mode"])
    if upstream is not None:
        y.backward(torch.tensor(upstream, dtype=torch.float64).reshape(y.shape))
    bare = isinstance(case["image"][0][0], (int, float))
    return (y[0, 0] if bare else y[0]), (None if x.grad is None else (x.grad[0, 0] if bare else x.grad[0]))


@settings(max_examples=60, deadline=None)
@given(padded_cases(), st.data())
def test_padded_pool_and_its_gradient_match_torch_autograd(case, data):
    try:
        y, _ = _torch_pool(case)
    except RuntimeError:              # "Output size is too small": derive refuses the spec too
        with pytest.raises(SpecError, match="even ceil_mode gives it no position"):
            derive.pool(**{k: v for k, v in case.items() if v is not None})
        return
    upstream = [data.draw(st.integers(-4, 4)) / 2 for _ in range(y.numel())]
    shaped = torch.tensor(upstream, dtype=torch.float64).reshape(y.shape).tolist()
    y, gx = _torch_pool(case, shaped)
    s = derive.pool(**{k: v for k, v in case.items() if v is not None}, upstream=shaped)
    got = torch.tensor(to_float(s.answers["output"]), dtype=torch.float64)
    assert got.shape == y.shape and torch.allclose(got, y, rtol=1e-9, atol=1e-12)
    grad = torch.tensor(to_float(s.answers["grad_image"]), dtype=torch.float64)
    assert grad.shape == gx.shape and torch.allclose(grad, gx, rtol=1e-9, atol=1e-12)


def test_d2l_max_pool_3_padding_1_stride_2():
    image = [[4 * i + j for j in range(4)] for i in range(4)]
    s = derive.pool(image, 3, padding=1, stride=2, upstream=[[1, 2], [3, 4]])
    assert s.answers["output"] == [[5, 7], [13, 15]]
    assert s.answers["grad_image"] == [[0, 0, 0, 0], [0, 1, 0, 2], [0, 0, 0, 0], [0, 3, 0, 4]]
    size, window = s.steps[0], s.steps[1]
    assert size.math[0].endswith(r"\left\lfloor \frac{4 + 2 \cdot 1 - 3}{2} \right\rfloor + 1 = 2")
    assert "max pooling pads with −∞" in size.text
    assert window.math[0] == (r"y_{0,0} = \max(-\infty, -\infty, -\infty, -\infty, 0, 1, -\infty, 4, 5) = 5 \quad "
                              r"\text{at } (1, 1)")
    assert r"{$-\infty$}" in window.figure and r"X^{\text{pad}}" in window.figure
    back = s.steps[-1]
    assert back.math[0] == r"g_{0,0} = 1 \;\to\; (1, 1)"


@pytest.mark.parametrize("image,kwargs", [
    ([[2, 7, 7, 1], [7, 0, 7, 7]], {"size": 2}),
    ([[5, 5, 5], [5, 5, 5], [5, 5, 5]], {"size": 2, "stride": 1, "padding": 1}),
    ([[5, 5, 5], [5, 5, 5], [5, 5, 5]], {"size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ([[1, 3, 3], [3, 1, 3], [3, 3, 1]], {"size": 2, "stride": 1}),
])
def test_max_pool_ties_send_the_gradient_to_the_first_maximum_like_torch(image, kwargs):
    case = dict(image=image, stride=kwargs.get("stride"), padding=[kwargs.get("padding", 0)] * 2,
                size=[kwargs["size"]] * 2, ceil_mode=kwargs.get("ceil_mode", False), mode="max")
    y, _ = _torch_pool(case)
    upstream = (torch.arange(y.numel(), dtype=torch.float64) + 1).reshape(y.shape).tolist()
    _, gx = _torch_pool(case, upstream)
    s = derive.pool(image, **kwargs, upstream=upstream)
    assert to_float(s.answers["grad_image"]) == gx.tolist()     # PyTorch agrees: the first maximum in reading order


def test_ceil_mode_keeps_a_partial_window_and_drops_one_starting_in_the_padding():
    s = derive.pool([[1, 2, 3, 4, 5]] * 5, 2, ceil_mode=True)
    assert len(s.answers["output"]) == 3 and s.answers["output"][2][2] == 5
    assert r"\left\lceil \frac{5 + 2 \cdot 0 - 2}{2} \right\rceil + 1 = 3" in s.steps[0].math[0]
    # n = 3, k = 2, p = 1, s = 2: ⌈(3 + 2 − 2)/2⌉ + 1 = 3, but the third window would start in the padding
    s = derive.pool([[1, 2, 3]] * 3, 2, stride=2, padding=1, ceil_mode=True, mode="avg")
    assert len(s.answers["output"]) == 2
    assert s.steps[0].math[1] == r"H_{\text{out}} = W_{\text{out}} = 3 - 1 = 2"
    assert "Here that last window is dropped." in s.steps[0].text


def test_average_counts_padded_zeros_and_clips_to_the_padded_input():
    s = derive.pool([[1, 2, 0, 4, 2], [0, 1, 3, 1, 1], [2, 1, 1, 0, 3], [5, 0, 2, 2, 0]], [3, 2], stride=2,
                    padding=[1, 0], mode="avg", ceil_mode=True, upstream=[[1, 2, -1], [2, 0, 1], [4, 1, 1]])
    lines = s.steps[1].math
    assert lines[0] == r"y_{0,0} = \frac{0 + 0 + 1 + 2 + 0 + 1}{6} = \frac{2}{3} \approx 0.6667"
    assert lines[2] == r"y_{0,2} = \frac{0 + 2 + 1}{3} = 1"
    back = s.steps[-1]
    assert back.math[0] == r"g_{0,0} / 6 = \frac{1}{6} \;\to\; \text{each of its 6 entries}"
    assert "a padded entry's share is dropped" in back.text


def test_the_gradient_check_adds_up_to_the_upstream():
    s = derive.pool([[1, 2], [3, 4]], 1, upstream=[[1, 2], [3, 4.5]])
    assert any(c.startswith("The gradient adds up to the upstream's total, 10.5") for c in s.checks)


def test_question_sheet_hides_the_default_padding_and_ceil_mode():
    from derive.kinds.pool import KIND
    plain = derive.engine.as_problem({"id": "p", "kind": "pool", "image": [[1, 2], [3, 4]], "size": 2})
    assert [label for label, _ in KIND.given(plain)] == ["image", "size", "mode"]
    padded = derive.engine.as_problem({"id": "p", "kind": "pool", "image": [[1, 2], [3, 4]], "size": 2,
                                       "padding": 1, "ceil_mode": True, "upstream": [[1, 1], [1, 1]]})
    assert [label for label, _ in KIND.given(padded)] == ["image", "size", "mode", "padding", "ceil mode",
                                                          "upstream"]


def _check(cli, spec_file, tmp_path, problem: str, answers: str) -> list[dict]:
    spec = spec_file("title: t\nproblems:\n  - id: p\n    kind: pool\n" + problem)
    (tmp_path / "answers.yaml").write_text(answers)
    result = cli("check", spec, tmp_path / "answers.yaml", "--json")
    assert result.code == 1, result.err
    return [a for a in json.loads(result.out)["problems"][0]["answers"] if not a["ok"]]


TIES = ("    image: [[2, 7, 7, 1, 0], [7, 0, 3, 7, 2], [1, 4, 4, 0, 5], [3, 0, 2, 2, 1], [0, 6, 1, 3, 3]]\n"
        "    size: 2\n    ceil_mode: true\n    upstream: [[1, -2, 3], [0.5, 1, 2], [1, 1, -1]]\n")
AVG = ("    image: [[1, 2, 0, 4, 2], [0, 1, 3, 1, 1], [2, 1, 1, 0, 3], [5, 0, 2, 2, 0]]\n    size: [3, 2]\n"
       "    stride: 2\n    padding: [1, 0]\n    mode: avg\n    ceil_mode: true\n    upstream: [[1, 2, -1], [2, 0, 1], [4, 1, 1]]\n")


@pytest.mark.parametrize("problem,route,include_pad,words", [
    (TIES, "ties", True, "sent to every maximum of the window"),
    (TIES, "share", True, "shared equally over the window"),
    (TIES, "copy", True, "copied to every entry of the window"),
    (AVG, "copy", True, "not divided by the window's count"),
    (AVG, "share", False, "padded zeros left out of the average's count"),
])
def test_pool_gradient_slips_are_named(cli, spec_file, tmp_path, problem, route, include_pad, words):
    from derive.engine import as_problem
    from derive.kinds import _pool_core as P
    raw = {k: v for k, v in (line.strip().split(": ", 1) for line in problem.strip().splitlines())}
    p = as_problem({"id": "p", "kind": "pool", **{k: json.loads(v) for k, v in raw.items() if k != "mode"},
                    **({"mode": raw["mode"]} if "mode" in raw else {})})
    grad = P.backward(p.fields.image, p.fields.upstream, p, route, include_pad)
    wrong = _check(cli, spec_file, tmp_path, problem,
                   "p:\n  grad_image: " + str([[str(v) for v in row] for row in grad]).replace("'", '"') + "\n")
    assert wrong and all(words in (a["slip"] or "") for a in wrong), wrong


BAD_PADDED = [
    ("image: [[1, 2], [3, 4]]\n    size: 2\n    padding: 2",
     "spec.yaml:7: p.padding: padding 2 is more than half the 2×2 window (at most 1, as PyTorch)"),
    ("image: [[1, 2], [3, 4]]\n    size: [3, 2]\n    padding: [1, 2]",
     "spec.yaml:7: p.padding: padding [1, 2] is more than half the 3×2 window (at most 1, as PyTorch)"),
    ("image: [[1, 2], [3, 4]]\n    size: 2\n    padding: -1",
     "spec.yaml:7: p.padding: must be zero or a positive whole number, got -1"),
    ("image: [[1]]\n    size: 4\n    padding: 1",
     "spec.yaml:6: p.size: the 4×4 window is larger than the padded image (3×3)"),
    ("image: [[1, 2], [3, 4]]\n    size: 2\n    upstream: [[1, 2]]",
     "spec.yaml:7: p.upstream: expected the output's shape, 1×1 (rows × columns), got 1×2"),
    ("image: [[[1, 2], [3, 4]], [[1, 2], [3, 4]]]\n    size: 2\n    upstream: [[1]]",
     "spec.yaml:7: p.upstream: expected the output's shape, 2×1×1 (channels × rows × columns), got 1×1"),
    ("image: [[1, 2], [3, 4]]\n    size: 2\n    ceil_mode: maybe",
     "spec.yaml:7: p.ceil_mode: expected true or false, got 'maybe'"),
]


@pytest.mark.parametrize("fields,message", BAD_PADDED)
def test_bad_padded_pool_specs_exit_2_with_exact_messages(bad_spec, fields, message):
    assert bad_spec(f"title: t\nproblems:\n  - id: p\n    kind: pool\n    {fields}\n") == message


def test_average_pooling_throughout_is_named_as_the_mode_not_the_gradient(cli, spec_file, tmp_path):
    s = derive.pool([[2, 7, 7, 1], [7, 0, 3, 7], [1, 4, 4, 0], [3, 0, 2, 2]], 2, mode="avg",
                    upstream=[[1, -2], [0.5, 1]])
    as_text = lambda m: str([[str(v) for v in row] for row in m]).replace("'", '"')
    wrong = _check(cli, spec_file, tmp_path, "    image: [[2, 7, 7, 1], [7, 0, 3, 7], [1, 4, 4, 0], [3, 0, 2, 2]]\n"
                   "    size: 2\n    upstream: [[1, -2], [0.5, 1]]\n",
                   f"p:\n  output: {as_text(s.answers['output'])}\n  grad_image: {as_text(s.answers['grad_image'])}\n")
    assert wrong and all("average pooling used instead of max pooling" in (a["slip"] or "") for a in wrong), wrong


def test_ceil_mode_pools_an_image_smaller_than_the_window_like_torch():
    case = dict(image=[[0, 1, 2]], size=[2, 2], stride=2, padding=[0, 0], ceil_mode=True, mode="avg")
    y, _ = _torch_pool(case)
    s = derive.pool([[0, 1, 2]], 2, stride=2, ceil_mode=True, mode="avg", upstream=[[1, 2]])
    assert to_float(s.answers["output"]) == y.tolist() == [[0.5, 2.0]]
    assert s.answers["grad_image"] == [[sympy.Rational(1, 2), sympy.Rational(1, 2), 2]]


def test_a_window_with_no_position_even_with_ceil_mode_is_refused(bad_spec):
    assert bad_spec("title: t\nproblems:\n  - id: p\n    kind: pool\n    image: [[0, 1, 2]]\n    size: [3, 2]\n"
                    "    stride: 2\n    ceil_mode: true\n") == (
        "spec.yaml:6: p.size: the 3×2 window is larger than the image (1×3) and even ceil_mode gives it no position")


# ---- a readable key at real sizes (SPEC §15) -----------------------------------------------------------------

from derive.kinds.pool import KIND as POOL   # noqa: E402

LARGE = "tests/layout_specs/pool_large.yaml"


def _channels(n, side=4):
    return [[[c + i - j for j in range(side)] for i in range(side)] for c in range(n)]


def _titled(s, title):
    return next(st_ for st_ in s.steps if st_.title == title)


def test_four_channels_are_all_written_never_channels_3_to_3():
    s = derive.pool(_channels(4), 2, upstream=[[[1, 2], [3, 4]]] * 4)
    out, back = _titled(s, "The output"), _titled(s, "Backward: the upstream gradient through the pooling")
    assert "3 to 3" not in out.text + back.text and "likewise" not in back.text
    assert len(out.math) == 4
    s = derive.pool(_channels(5), 2, upstream=[[[1, 2], [3, 4]]] * 5)
    out, back = _titled(s, "The output"), _titled(s, "Backward: the upstream gradient through the pooling")
    assert "(Channels 3 and 4 are in the answer.)" in out.text and "(Channels 3 and 4 likewise.)" in back.text


def test_a_long_window_wraps_and_only_a_few_are_worked():
    problem = derive.load(LARGE).problems[0]
    s = derive.solve(problem)
    lines = _titled(s, "Pool each window").math
    assert lines[0] == r"y_{0,0,0} = \frac{1}{9}(0 + 0 + 0 + 0 + 2.04091912 - 2.55566503 + 0 - 0.86521308"
    assert lines[1] == r"\quad + 3.32299952) \approx 0.2159"
    assert sum(line.startswith("y_{") for line in lines) == 3 + 2     # three entries of channel 0, one of the others


def test_several_wide_outputs_answer_one_channel_per_row():
    problem = derive.load(LARGE).problems[1]
    s = derive.solve(problem)
    answers = {a.name: a for a in s.answer_list}
    assert answers["output"].display.startswith(r"\left\{\begin{array}")
    assert all(f"Y_{{{c}}} = " in answers["output"].display for c in range(4))
    assert all(f"Y_{{{c}}}" in " ".join(_titled(s, "The output").math) for c in range(4))


def test_question_sheet_labels_each_channel_and_writes_numbers_as_given():
    problem = derive.load(LARGE).problems[0]
    given = dict(POOL.given(problem))
    assert [label for label in given if label.startswith("image")] == [f"image, channel {c}" for c in range(3)]
    assert "2.04091912" in given["image, channel 0"]
    assert given["upstream"].count(r"\text{channel ") == 3
