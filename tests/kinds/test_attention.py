"""attention against PyTorch: the formula with autograd and F.scaled_dot_product_attention (boolean attn_mask,
is_causal, scale); self-attention through wq, wk, wv against autograd; bad specs; slips; follow-through."""
import time

import pytest
import sympy
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import derive
from derive.verify import to_float

decimals = st.integers(-20, 20).map(lambda n: n / 10)


def tensor(value, grad=False):
    return torch.tensor(value, dtype=torch.float64, requires_grad=grad)


def close(got, want):
    return torch.allclose(tensor(to_float(got)), want.detach().to(torch.float64), rtol=1e-9, atol=1e-12)


def matrix(draw, rows, cols):
    return [[draw(decimals) for _ in range(cols)] for _ in range(rows)]


@st.composite
def problems(draw):
    n, m, d, dv = (draw(st.integers(1, 4)) for _ in range(4))
    fields = {"queries": matrix(draw, n, d), "keys": matrix(draw, m, d), "values": matrix(draw, m, dv),
              "upstream": matrix(draw, n, dv)}
    how = draw(st.sampled_from(["none", "mask", "causal"] if n == m else ["none", "mask"]))
    if how == "mask":
        rows = [[draw(st.booleans()) for _ in range(m)] for _ in range(n)]
        fields["mask"] = [[int(v) for v in row] if any(row) else [1] + [int(v) for v in row[1:]] for row in rows]
    elif how == "causal":
        fields["causal"] = True
    if draw(st.booleans()):
        fields["scale"] = draw(st.sampled_from([0.5, 1, 0.3, 2]))
    return fields


def torch_mask(fields):
    n, m = len(fields["queries"]), len(fields["keys"])
    if "mask" in fields:
        return torch.tensor(fields["mask"], dtype=torch.bool)
    if fields.get("causal"):
        return torch.ones(n, m, dtype=torch.bool).tril()
    return torch.ones(n, m, dtype=torch.bool)


@settings(max_examples=30, deadline=None)
@given(problems())
def test_attention_matches_the_formula_and_sdpa(fields):
    s = derive.solve({"kind": "attention", **fields})
    q, k, v = (tensor(fields[name], grad=True) for name in ("queries", "keys", "values"))
    scale = fields.get("scale", 1 / len(fields["queries"][0]) ** 0.5)
    allowed = torch_mask(fields)
    scores = q @ k.T * scale
    weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
    out = weights @ v
    out.backward(tensor(fields["upstream"]))
    assert close(s.answers["scores"], scores) and close(s.answers["weights"], weights)
    assert close(s.answers["output"], out)
    for name, t in (("grad_queries", q), ("grad_keys", k), ("grad_values", v)):
        assert close(s.answers[name], t.grad), name
    q2, k2, v2 = (tensor(fields[name], grad=True) for name in ("queries", "keys", "values"))
    kwargs = {"scale": fields["scale"]} if "scale" in fields else {}
    if fields.get("causal"):
        kwargs["is_causal"] = True
    else:
        kwargs["attn_mask"] = allowed
    sdpa = TF.scaled_dot_product_attention(q2, k2, v2, **kwargs)
    sdpa.backward(tensor(fields["upstream"]))
    assert close(s.answers["output"], sdpa)
    for name, t in (("grad_queries", q2), ("grad_keys", k2), ("grad_values", v2)):
        assert close(s.answers[name], t.grad), name


@st.composite
def self_attention(draw):
    n, dm, dk, dv = (draw(st.integers(1, 3)) for _ in range(4))
    fields = {"input": matrix(draw, n, dm), "wq": matrix(draw, dk, dm), "wk": matrix(draw, dk, dm),
              "wv": matrix(draw, dv, dm), "upstream": matrix(draw, n, dv)}
    if draw(st.booleans()):
        fields["causal"] = True
    return fields


@settings(max_examples=15, deadline=None)
@given(self_attention())
def test_self_attention_matches_autograd(fields):
    s = derive.solve({"kind": "attention", **fields})
    x, wq, wk, wv = (tensor(fields[name], grad=True) for name in ("input", "wq", "wk", "wv"))
    q, k, v = x @ wq.T, x @ wk.T, x @ wv.T
    out = TF.scaled_dot_product_attention(q, k, v, is_causal=bool(fields.get("causal")))
    out.backward(tensor(fields["upstream"]))
    for name, want in (("queries", q), ("keys", k), ("values", v), ("output", out), ("grad_wq", wq.grad),
                       ("grad_wk", wk.grad), ("grad_wv", wv.grad), ("grad_input", x.grad)):
        assert close(s.answers[name], want), name


def test_exact_weights_of_one_query():
    s = derive.attention([[1, 0]], [[1, 0], [0, 1]], [[1, 0], [0, 1]], scale=1)
    e = sympy.E
    assert [sympy.simplify(a - b) for a, b in zip(s.answers["weights"][0], [e / (e + 1), 1 / (e + 1)])] == [0, 0]
    assert s.answers["scores"] == [[1, 0]]


def test_default_scale_is_one_over_root_dk_and_causal_row_zero_is_exact():
    s = derive.attention([[1, 0], [0, 1]], [[2, 0], [0, 2]], [[1, 2], [3, 4]], causal=True)
    assert s.answers["scores"] == [[sympy.sqrt(2), 0], [0, sympy.sqrt(2)]]
    assert s.answers["weights"][0] == [1, 0] and s.answers["output"][0] == [1, 2]


def test_a_constant_value_column_and_a_uniform_gradient_row_stay_exact():
    s = derive.attention([[1, 0], [0, 1]], [[1, 2], [0, 1]], [[1, 5], [2, 5]], upstream=[[0, 1], [1, 0]])
    assert [row[1] for row in s.answers["output"]] == [5, 5]
    assert s.answers["grad_queries"][0] == [0, 0]   # ∂L/∂A row 0 is [5, 5]: the softmax passes no gradient


def test_answer_order_and_names():
    s = derive.solve({"kind": "attention", "input": [[1, 0], [0, 1]], "wq": [[1, 0]], "wk": [[0, 1]],
                      "wv": [[1, 1], [1, -1], [0, 1]], "upstream": [[1, 0, 0], [0, 0, 1]]})
    assert list(s.answers) == ["scores", "weights", "output", "queries", "keys", "values", "grad_queries",
                               "grad_keys", "grad_values", "grad_wq", "grad_wk", "grad_wv", "grad_input"]
    assert len(s.answers["values"][0]) == 3   # d_v = 3 ≠ d_k = 1


def test_a_four_by_four_self_attention_is_fast():
    x = [[1, 0, 0.5, -1], [0, 1, 1, 0.5], [0.5, -0.5, 0, 1], [1, 1, -1, 0]]
    w = [[0.5, -1, 0, 1], [1, 0.5, -0.5, 0], [0, 1, 1, -0.5], [-1, 0, 0.5, 1]]
    start = time.monotonic()
    s = derive.solve({"kind": "attention", "input": x, "wq": w, "wk": w[::-1], "wv": w, "causal": True,
                      "upstream": x})
    assert time.monotonic() - start < 5
    assert "grad_input" in s.approximate


def test_the_weights_grid_is_drawn():
    s = derive.attention([[1, 0], [0, 1]], [[1, 0], [0, 1]], [[1], [2]], causal=True)
    figure = next(step.figure for step in s.steps if step.figure)
    assert "tikzpicture" in figure and "{1.00}" in figure and "{0.33}" in figure and "{0.67}" in figure
    assert "fill=gray!15] (1,1)" in figure   # query 0 may not attend to key 1


HEAD = "title: t\nproblems:\n  - id: p\n    kind: attention\n"
QKV = "    queries: [[1, 0], [0, 1]]\n    keys: [[1, 0], [0, 1], [1, 1]]\n    values: [[1], [2], [3]]\n"
SELF = "    input: [[1, 0, 1], [0, 1, 0]]\n    wk: [[1, 0, 0], [0, 1, 0]]\n    wv: [[1, 1, 1]]\n"


@pytest.mark.parametrize("body, message", [
    (QKV + "    mask: [[1, 0], [0, 1]]\n", "spec.yaml:8: p.mask: expected 2×3 (queries × keys), got 2×2"),
    (QKV + "    causal: true\n", "spec.yaml:8: p.causal: a causal mask needs as many keys as queries, got 2 queries "
                                 "and 3 keys"),
    (QKV + "    mask: [[1, 0, 1], [0, 0, 0]]\n", "spec.yaml:8: p.mask[1]: query 1 may attend to nothing (every entry "
                                                 "of row 1 is 0): its softmax would divide by zero"),
    (QKV + "    mask: [[1, 0, 1], [0, 2, 0]]\n", "spec.yaml:8: p.mask[1][1]: a mask entry must be 1 (may attend) or "
                                                 "0 (may not), got 2"),
    (QKV + "    mask: [[1, 1, 1], [1, 1, 1]]\n    causal: true\n", "spec.yaml:9: p.causal: give a mask or causal: "
                                                                   "true, not both"),
    (QKV + "    upstream: [[1, 2], [3, 4]]\n", "spec.yaml:8: p.upstream: expected 2×1 (the shape of the output, "
                                               "queries × d_v), got 2×2"),
    ("    queries: [[1, 0]]\n    keys: [[1, 0, 2]]\n    values: [[1]]\n",
     "spec.yaml:6: p.keys: expected m×2 (each key as wide as a query, d_k = 2), got 1×3"),
    ("    queries: [[1, 0]]\n    keys: [[1, 0]]\n    values: [[1], [2]]\n",
     "spec.yaml:7: p.values: expected 1×d_v (one value per key), got 2×1"),
    ("    queries: [[1, 0]]\n    keys: [[1, 0]]\n", "spec.yaml:3: p.values: required with queries, keys"),
    (SELF + "    wq: [[1, 0], [0, 1], [1, 1]]\n", "spec.yaml:8: p.wq: expected d_k×3 (d_k × d_model, as "
                                                  "nn.Linear.weight), got 3×2; its transpose fits: nn.Linear.weight "
                                                  "is out × in, so give the 2×3 transpose"),
    (SELF + "    wq: [[1, 0, 0]]\n", "spec.yaml:6: p.wk: expected 1×3 (the shape of wq: keys are as wide as "
                                     "queries), got 2×3"),
    (SELF + "    wq: [[1, 0, 0]]\n    queries: [[1, 0]]\n", "spec.yaml:5: p.input: give queries, keys and values, "
                                                            "or input with wq, wk and wv, not both"),
    ("    causal: true\n", "spec.yaml:3: p.queries: required (or give input with wq, wk and wv: self-attention)"),
])
def test_bad_attention_specs(bad_spec, body, message):
    err = bad_spec(HEAD + body)
    assert err.startswith(message), err


SPEC = HEAD + """    queries: [[1, 0], [0, 1], [1, 1]]
    keys: [[1, 2], [0, 1], [1, -1]]
    values: [[1, 0], [0, 2], [-1, 1]]
    causal: true
    upstream: [[1, 0], [0, 1], [1, -1]]
"""


def marks(tmp_path, answers):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return [m for m in derive.check(derive.load(spec), {"p": answers}).problems[0].marks if not m.ok]


def written(value):
    return [[float(f"{to_float(v):.6g}") for v in row] for row in value]


def slipped(**fields):
    return derive.solve({"kind": "attention", "queries": [[1, 0], [0, 1], [1, 1]], "keys": [[1, 2], [0, 1], [1, -1]],
                         "values": [[1, 0], [0, 2], [-1, 1]], "upstream": [[1, 0], [0, 1], [1, -1]], **fields})


@pytest.mark.parametrize("slip, fields, answer", [
    ("attn_no_scale", {"causal": True, "scale": 1}, "weights"),
    ("attn_scale_by_d", {"causal": True, "scale": 0.5}, "output"),
    ("attn_mask_transposed", {"mask": [[1, 1, 1], [0, 1, 1], [0, 0, 1]]}, "weights"),
    ("attn_mask_ignored", {}, "output"),
])
def test_forward_slips_are_named(tmp_path, slip, fields, answer):
    wrong = marks(tmp_path, {answer: written(slipped(**fields).answers[answer])})
    assert wrong and all(slip in m.slip_names for m in wrong), [(m.slip_names, m.slip) for m in wrong]


def test_the_column_softmax_is_named(tmp_path):
    s = slipped(causal=True)
    import numpy as np
    scores = np.array(to_float(s.answers["scores"]))
    allowed = np.tril(np.ones((3, 3), dtype=bool))
    e = np.where(allowed, np.exp(scores), 0)
    columns = (e / e.sum(axis=0, keepdims=True)).tolist()
    wrong = marks(tmp_path, {"weights": [[float(f"{v:.6g}") for v in row] for row in columns]})
    assert wrong and all("attn_column_softmax" in m.slip_names for m in wrong)


def test_the_softmax_jacobian_as_its_diagonal_is_named(tmp_path):
    q, k, v = (tensor(x, grad=name == "q") for name, x in (("q", [[1, 0], [0, 1], [1, 1]]),
                                                            ("k", [[1, 2], [0, 1], [1, -1]]),
                                                            ("v", [[1, 0], [0, 2], [-1, 1]])))
    a = torch.softmax((q @ k.T / 2 ** 0.5).masked_fill(~torch.ones(3, 3, dtype=torch.bool).tril(), float("-inf")), -1)
    ds = a * (tensor([[1, 0], [0, 1], [1, -1]]) @ v.T)
    grad_q = (ds @ k / 2 ** 0.5).detach().tolist()
    wrong = marks(tmp_path, {"grad_queries": [[float(f"{x:.6g}") for x in row] for row in grad_q]})
    assert wrong and all("attn_softmax_diagonal" in m.slip_names for m in wrong)


def test_output_from_the_students_weights_is_carried(tmp_path):
    weights = [[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]]    # wrong in rows 1 and 2
    output = [[1, 0], [0.5, 1], [-0.3, 1.1]]                 # A·V from those weights
    wrong = marks(tmp_path, {"weights": weights, "output": output})
    carried = [m for m in wrong if m.name == "output"]
    assert carried and all(m.carried == "weights" for m in carried)


def test_self_attention_follows_from_the_students_queries_and_gradients(tmp_path):
    fields = {"input": [[1, 0, 1], [0, 1, 0], [1, 1, -1]], "wq": [[0.5, 0, 1], [0, 1, -0.5]],
              "wk": [[1, 0.5, 0], [0, -1, 1]], "wv": [[1, 0, 0.5], [0, 1, 1]], "causal": True,
              "upstream": [[1, 0], [0, 1], [0.5, -1]]}
    spec = tmp_path / "spec.yaml"
    spec.write_text("title: t\nproblems:\n  - id: p\n    kind: attention\n"
                    + "".join(f"    {k}: {str(v).lower() if v is True else v}\n" for k, v in fields.items()))
    s = derive.solve({"kind": "attention", **fields})
    x = torch.tensor(fields["input"], dtype=torch.float64)
    q = tensor(to_float(s.answers["queries"]))
    q[1, 1] = 2                                          # one query entry wrong
    scores = q @ tensor(to_float(s.answers["keys"])).T / 2 ** 0.5
    grad_q = tensor(to_float(s.answers["grad_queries"]))
    grad_q[2, 0] += 1                                    # one gradient entry wrong
    given = {"queries": q.tolist(), "scores": scores.tolist(), "grad_queries": grad_q.tolist(),
             "grad_wq": (grad_q.T @ x).tolist()}
    wrong = [m for m in derive.check(derive.load(spec), {"p": given}).problems[0].marks if not m.ok]
    assert {(m.name, m.carried) for m in wrong} == {("queries", None), ("scores", "queries"),
                                                    ("grad_queries", None), ("grad_wq", "grad_queries")}


def test_a_row_of_many_keys_is_written_with_its_sum_named():
    """SPEC §15: four keys' exact weights (1/Σ e^{s_ik − s_ij} each) do not fit a line; the key names S_i."""
    x = [[0.5, -1, 0.25, 2], [1, 0, -0.5, 0.75], [-1.5, 0.5, 1, 0], [0.25, 0.25, -2, 1]]
    w = [[0.5, 0, -0.5, 0.25], [0.25, 1, 0, -0.5], [0, -0.25, 0.5, 1], [1, 0.5, 0.25, 0]]
    s = derive.attention(input=x, wq=w, wk=w[::-1], wv=w, causal=True)
    step = next(st for st in s.steps if st.title == "Softmax of each row")
    lines = "\n".join(step.math)
    assert r"S_{3} = \sum_k e^{s_{3k}} = " in lines and r"\mathbf{a}_{3} = e^{\mathbf{s}_{3}}/S_{3} \approx" in lines
    assert r"S_{2} = " in lines and r"S_{1} = " not in lines        # two keys still read exactly
    assert r"\frac{1}{e^" not in lines.split(r"S_{2}")[1]
