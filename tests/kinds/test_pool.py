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
