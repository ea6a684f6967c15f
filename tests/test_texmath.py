"""The inline-math grammar: every construct accepted, every malformed class refused, and what passes compiles."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.jinjaenv import fixed_preamble
from derive.prose import UnsafeText, check_math, to_latex
from derive.texmath import (ACCENTS, BIG, COMMANDS, FRACTIONS, MAX_CHARS, MAX_DEPTH, OPERATORS, SPACING, SYMBOLS,
                            MathError, parse, tokenize)

PDFLATEX = shutil.which("pdflatex")
needs_tex = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")

# Valid math: every whitelisted command at least once (test_valid_corpus_covers_every_command checks it).
VALID = [
    r"\alpha + \beta - \gamma \cdot \delta / \epsilon = \varepsilon", r"\zeta \eta \theta \vartheta \iota \kappa",
    r"\lambda \mu \nu \xi \pi \rho \sigma \tau \upsilon", r"\phi \varphi \chi \psi \omega",
    r"\Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma \Upsilon \Phi \Psi \Omega", r"\frac{1}{2}\sum(\hat{y}-y)^2",
    r"\frac12 + \dfrac{a}{b} + \tfrac\pi2", r"\sqrt{2} + \sqrt[3]{x} + \sqrt x + \sqrt[{]}]{y}",
    r"\sum_{i=1}^{n} x_i \prod_k p_k \int_0^1 f", r"\log x + \ln y + \exp(z) + \max(0, z) + \min_x f",
    r"\arg\max_\theta L + \argmax_{\theta} L + \argmin_x f", r"\lim_{x \to 0} \sin x / \cos x + \tan y + \tanh z",
    r"a \times b \div c \pm d \mp e", r"a \le b \leq c \ge d \geq e \ne f \neq g",
    r"a \approx b \equiv c \sim d \propto e", r"x \in A, y \notin B, A \subset B \subseteq C, A \cup B \cap C",
    r"f: X \to Y, a \rightarrow b \leftarrow c \Rightarrow d, x \mapsto x^2", r"\infty, \partial f, \nabla f",
    r"\hat{y} \bar{x} \tilde{a} \vec{v} \dot{x} \ddot{x}", r"\mathbf{x} \mathrm{d}x \mathit{ab} \boldsymbol{\theta}",
    r"\mathcal{L} + \mathbb{R}^n + \mathbb N + \mathcal{ AB }", r"f(x) = 1 \text{ if } x > 0 \text{ else } 0",
    r"\operatorname{softmax}(z) + \operatorname{arg\,max} + \operatorname*{argmin}_x",
    r"\left( \frac{a}{b} \right)^2 + \left[ x \right] + \left. \frac{df}{dx} \right|_{x=0}",
    r"\big( \Big[ \bigl\{ \bigr\} \Bigl| \Bigr. \big\|",
    r"\lfloor x \rfloor + \lceil y \rceil + \langle u, v \rangle",
    r"\left\lfloor x \right\rfloor \left\lceil y \right\rceil",
    r"\left\langle u, v \right\rangle + \left\lVert x \right\rVert + \left\Vert x \right\Vert + \left\| y \right\|",
    r"\left\{ x \right\} + \lVert x \rVert + \Vert y \Vert", r"1, \ldots, n; 1 \cdots n; \vdots \ddots",
    r"a \quad b \qquad c \, d \; e \: f \! g \ h", r"W^\top + A^\intercal + f \circ g",
    r"a \odot b \otimes c \oplus d", r"f^\prime(x) = f'(x), x \mid y", r"x_a^b + x^b_a + ^2 + _0 + x'' + x_1'^2",
    r"{a^b}^c + a^{b^c} + x^{\left(y\right)}", r"\sigma(z)\bigl(1 - \sigma(z)\bigr) + 1 - \tanh^2(z)",
    r"120{,}422{,}400 + [-1, 1] + (0,0,1) + z_{0,0}", r"E[\tilde{a}] = p \cdot a/p = a + p\,a",
    r"\partial\mathcal{L}/\partial(\text{node}) + \mathbf{a}^{[0]} = \mathbf{x}", r"x^\alpha + x_\{ + x^\| + x_\infty",
    r"\frac{\sum_i x_i}{\log n} + \sqrt{\frac{a}{b}} + \hat{\left(x\right)} + \mathbf{\frac{a}{b}}",
    r"\text{a b, c; d: e! f' (g) [h] i/j k-l m+n o=p q*r <s> |t|} + \text{}",
    r"x < y > z ! w ; u : v . t * s", r"\frac{}{} + \sqrt{} + x^{} + {}",
    r"\mathbf{x^3}^2 + \hat{x^2}^3 + \sqrt[3]{x}^2 + \text{a}^2 + \frac{a}{b}^2",
]

# Malformed math: each must be refused (TeX would stop on it, or it is unsafe, or renders junk).
MALFORMED = [
    "a^b^c", "a_b_c", "x^2^3", "x_1_2", "x^{a}^{b}", "x'^2'", "x' ^2", "x^2'", "x'_1^2", r"\frac", r"\frac{a}",
    r"\frac{a}}", r"{\frac{a}}", r"\dfrac1", r"\frac{a}^2", r"\text{^}", r"\text{_}", r"\text{\x}", r"\text{\alpha}",
    r"\text{$}", r"\text{\|}", r"\text{{a}}", r"\text a", r"\text", r"\left(", r"\left( x", r"\right)", r"x \right)",
    r"{\left(} \right)", r"\left x \right)", r"\left( x \right", r"\left\langle x", r"\left+ x \right+", r"\vec",
    r"\hat", r"\sqrt", r"\mathbf", "x^", "x_", "^", "{", "}", "}{", r"\sqrt[", r"\sqrt[3", r"\sqrt[3]",
    r"\sqrt[\sqrt[3]{2}]{x}", r"\mathbb{1}", r"\mathbb{r}", r"\mathcal{a}", r"\mathcal{}", r"\mathcal{L_1}", r"\mathbb",
    r"\operatorname{}", r"\operatorname{x^2}", r"\operatorname", r"\big", r"\bigl x", r"\Big{(}", r"x^\log",
    r"x_\sum", r"\sqrt\cdots", r"x^\frac12", r"x^\,", r"x^'", r"x\\y", r"a & b", "a # b", "a % b", "a ~ b",
    "^^5c", r"\input{x}", r"\def\a{b}", r"\catcode`\^=7", r"\csname x\endcsname", r"\$", "a\\", "x ? y",
    'x "y"', "α", "", "a\rb", "a\n\nb", "@", r"\@", r"\begin{matrix}a\end{matrix}", r"\over", r"\limits",
    r"\sqrt[3]{\sqrt[3]{\sqrt[3]{\sqrt[3]{x}}}}", r"\boldsymbol{\boldsymbol{\boldsymbol{\boldsymbol{x}}}}",
]

# (snippet, the exact message): one per class of error.
MESSAGES = [
    ("a^b^c", "double superscript in math (write {a^b}^c or a^{bc})"),
    ("a_b_c", "double subscript in math (write {a_b}_c or a_{bc})"),
    (r"\frac{a}", r"\frac needs two arguments, as in \frac{a}{b}"),
    (r"\vec", r"\vec needs an argument, as in \vec{x}"),
    ("x^", "^ needs an argument, as in x^2 or x^{ab}"),
    ("x_}", "unbalanced braces in math: a '}' closes nothing"),
    ("{x_", "unbalanced braces in math: a '{' is never closed"),
    ("{x_}", "_ needs an argument, as in x_2 or x_{ab}"),
    (r"x^\log", r"\log must be in braces as the argument of ^, as in x^{\log…}"),
    (r"\frac\sqrt2 3", r"\sqrt must be in braces as the argument of \frac, as in \frac{\sqrt…}"),
    (r"\text{^}", r"'^' is not allowed in \text{}: it takes only letters, digits, spaces and punctuation, "
                  r"as in \text{ if }"),
    (r"\text x", r"\text takes only letters, digits, spaces and punctuation, as in \text{ if }"),
    (r"\mathbb{1}", r"'1' is not allowed in \mathbb{}: it takes upper-case letters only, as in \mathbb{R}"),
    (r"\mathcal a", r"\mathcal takes upper-case letters only, as in \mathcal{R}"),
    (r"\operatorname{}", r"\operatorname takes a name of letters, as in \operatorname{softmax}"),
    (r"\left( x", r"\left( has no matching \right"),
    (r"x \right)", r"\right has no matching \left"),
    (r"{\right)}", r"\right has no matching \left"),
    (r"\left x \right)", r"\left needs a delimiter after it: one of ( ) [ ] | . \{ \} \| \langle \rangle "
                         r"\lfloor \rfloor \lceil \rceil \lVert \rVert \Vert"),
    (r"\bigl x", r"\bigl needs a delimiter after it: one of ( ) [ ] | . \{ \} \| \langle \rangle "
                 r"\lfloor \rfloor \lceil \rceil \lVert \rVert \Vert"),
    (r"\sqrt[3", r"\sqrt[ has no closing ] (write \sqrt[n]{x}; a [ or ] inside n needs braces)"),
    (r"x\\y", r"'\\' is not allowed in math (no line breaks inside $…$)"),
    (r"\@", r"'\@' is not allowed in math"),
    (r"\input{x}", r"\input is not allowed in math (allowed: Greek letters, \frac, \sqrt, \sum, \hat, \mathbf, "
                   r"\text and other formula commands)"),
    ("^^5c", "'^^' is not allowed in math"),
    ("a ~ b", "character '~' is not allowed in math"),
    ("a\n \nb", "a blank line is not allowed in math"),
    ("", r"empty math: '$$' is not allowed (write \$ for a dollar sign)"),
    (r"\boldsymbol{\sqrt[3]{\boldsymbol{\text{a}}}}", r"\boldsymbol, \sqrt[n] and \text nest at most 3 deep in math "
                                                  "(TeX typesets the contents of each four times)"),
    ("x" * (MAX_CHARS + 1), f"math is longer than {MAX_CHARS} characters"),
    ("{" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1), f"math nests deeper than {MAX_DEPTH} levels"),
]


@pytest.mark.parametrize("math", VALID)
def test_valid_corpus_is_accepted(math):
    assert check_math(math) == math


def test_valid_corpus_covers_every_command():
    used = {tok.lexeme for math in VALID for tok in tokenize(math) if tok.kind == "cmd"}
    assert COMMANDS - used == set()
    assert len(VALID) >= 40


@pytest.mark.parametrize("math", MALFORMED)
def test_malformed_corpus_is_refused(math):
    with pytest.raises(UnsafeText):
        check_math(math)


def test_malformed_corpus_is_large():
    assert len(MALFORMED) >= 36


@pytest.mark.parametrize("math, message", MESSAGES, ids=[m[:20] for m, _ in MESSAGES])
def test_each_error_class_has_its_message(math, message):
    with pytest.raises(MathError) as info:
        parse(math)
    assert str(info.value) == message


def test_bounds_are_inclusive():
    parse("x" * MAX_CHARS)
    parse("{" * MAX_DEPTH + "}" * MAX_DEPTH)
    parse(r"\left(" * MAX_DEPTH + r"\right)" * MAX_DEPTH)
    with pytest.raises(MathError, match="nests deeper"):
        parse(r"\sqrt{" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1))
    parse(r"\boldsymbol{\sqrt[{\sqrt[3]{\sqrt[3]{2}}}]{\text{a}}}")   # an index is typeset once


def test_scripts_and_primes():
    for math in ["x_a^b", "x^b_a", "^2", "x''", "x_1'", "x'_1", "x'^2", "x_1'^2", "{x^a}^b", r"\sum_i^n", "x^2 y^3"]:
        parse(math)
    for math in ["x^a^b", "x_a_b", "x^a'", "x''^a^b", "x'_1'", r"\sum^a_b^c", r"\left(x\right)^2^3"]:
        with pytest.raises(MathError, match="double s"):
            parse(math)


def test_argument_classes():
    """Symbols may stand bare as arguments; operators, spacing and commands with arguments must be braced."""
    for name in SYMBOLS:
        parse(rf"x^\{name} + \frac\{name}\{name} + \sqrt\{name}")
    for name in OPERATORS | SPACING | ACCENTS | FRACTIONS | BIG:
        with pytest.raises(MathError, match="must be in braces"):
            parse(rf"x^\{name}")


def test_prose_reports_the_parse_error():
    with pytest.raises(UnsafeText, match="double superscript"):
        to_latex("Let $a^b^c$ be.")
    assert to_latex("Let $a^{b^c}$ be.") == "Let $a^{b^c}$ be."


@pytest.mark.parametrize("math, message", [
    ("a^b^c", "double superscript in math (write {a^b}^c or a^{bc})"),
    (r"\frac{a}", r"\frac needs two arguments, as in \frac{a}{b}"),
    (r"\left(x", r"\left( has no matching \right"),
])
def test_bad_math_in_a_spec_is_a_spec_error(bad_spec, math, message):
    err = bad_spec(f"""
        title: T
        problems:
          - id: q1
            kind: softmax
            logits: [1, 2]
            statement: 'see ${math}$'
        """)
    assert err == f"spec.yaml:6: q1.statement: {message}"


def preamble() -> str:
    """The key's fixed preamble (as rendered), with \\argmax and \\argmin declared."""
    text = fixed_preamble()
    for name in ("argmax", "argmin"):
        if "\\" + name not in text:
            text += f"\n\\DeclareMathOperator*{{\\{name}}}{{arg\\,{name[3:]}}}"
    return text + "\n"


def compile_all(snippets: list[str], folder: Path) -> None:
    """Typeset every snippet as `$…$` in one pdflatex run; fail naming the first snippet TeX stopped on."""
    head = preamble() + "\\begin{document}\n"
    body = "".join(f"\\noindent${math}$\\par\n" for math in snippets)
    (folder / "t.tex").write_text(head + body + "\\end{document}\n", encoding="utf-8")
    run = subprocess.run([PDFLATEX, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                          "-file-line-error", "t.tex"], cwd=folder, capture_output=True, text=True, timeout=300)
    if run.returncode:
        log = (folder / "t.log").read_text(errors="replace")
        where = re.search(r"t\.tex:(\d+): (.*)", log)
        index = int(where.group(1)) - head.count("\n") - 1 if where else -1
        culprit = snippets[index] if 0 <= index < len(snippets) else "?"
        pytest.fail(f"accepted math does not compile: ${culprit}$: {where.group(2) if where else log[-800:]}")


@needs_tex
def test_valid_corpus_compiles(tmp_path):
    compile_all(VALID, tmp_path)


@needs_tex
def test_the_compile_check_names_the_snippet_tex_stops_on(tmp_path):
    with pytest.raises(pytest.fail.Exception, match=r"\$a\^b\^c\$: Double superscript"):
        compile_all(["x^2", "a^b^c", "y"], tmp_path)


ALPHABET = (list("xyAR12") + list("+-*/=<>()[],;:!'.|") + ["{", "}", "{", "}", "^", "_", " ", "'"]
            + [rf"\{name} " for name in sorted(COMMANDS)] + [rf"\{c}" for c in ",;:! {}|"])
LEAVES = ["x", "2", "R", "(", "]", "+", "'", r"\alpha", r"\infty", r"\{", r"\|", r"\log", r"\sum", r"\cdots", r"\,"]
DELIMS = ["(", ")", "[", "]", ".", "|", r"\{", r"\}", r"\|", r"\langle", r"\rangle", r"\lfloor", r"\rVert"]


def built(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One grammar construct around smaller ones."""
    pick = st.sampled_from
    return st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, pick(["^", "_", "'^", "''", "_"]), inner).map(lambda t: f"{t[0]}{t[1]}{{{t[2]}}}"),
        st.tuples(inner, pick(["^", "_"]), pick(LEAVES)).map("".join),
        inner.map(lambda s: "{" + s + "}"),
        st.tuples(pick(sorted(FRACTIONS)), inner, inner).map(lambda t: rf"\{t[0]}{{{t[1]}}}{{{t[2]}}}"),
        st.tuples(pick(sorted(ACCENTS)), inner).map(lambda t: rf"\{t[0]}{{{t[1]}}}"),
        st.tuples(inner, inner).map(lambda t: rf"\sqrt[{t[0]}]{{{t[1]}}}"),
        st.tuples(pick(DELIMS), inner, pick(DELIMS)).map(lambda t: rf"\left{t[0]} {t[1]} \right{t[2]}"),
        st.tuples(pick(sorted(BIG)), pick(DELIMS)).map(lambda t: rf"\{t[0]}{t[1]}"),
        pick([r"\text{ if }", r"\mathcal{L}", r"\mathbb R", r"\operatorname{relu}", r"\operatorname*{arg\,max}"]))


def mutated(math: str, seed: int) -> str:
    """The math with one token dropped, doubled or moved: near misses of the grammar."""
    rng = random.Random(seed)
    toks = [m.group(0) for m in re.finditer(r"\\[A-Za-z]+ ?|\\.|.", math, re.S)]
    i, j = rng.randrange(len(toks)), rng.randrange(len(toks))
    how = rng.choice(["drop", "double", "move", "keep"])
    if how == "drop":
        return "".join(toks[:i] + toks[i + 1:])
    if how == "double":
        return "".join(toks[:i + 1] + toks[i:])
    if how == "move":
        tok = toks.pop(i)
        toks.insert(j, tok)
    return "".join(toks)


SOUP = st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=8).map("".join)
GRAMMAR = st.recursive(st.sampled_from(LEAVES), built, max_leaves=10)
RANDOM_MATH = st.one_of(SOUP, GRAMMAR, st.tuples(GRAMMAR, st.integers(0, 2**32)).map(lambda t: mutated(*t)))


def accepts(math: str) -> bool:
    """Whether the parser accepts the math (a refusal is an expected outcome here, not an error)."""
    try:
        parse(math)
    except MathError:
        return False
    return True


def accepted_samples(count: int) -> list[str]:
    """Random math from the grammar's alphabet that the parser accepts, at most `count` snippets."""
    found: list[str] = []

    @settings(max_examples=4 * count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(RANDOM_MATH)
    def collect(math: str) -> None:
        if len(found) < count and math not in found and accepts(math):
            found.append(math)

    collect()
    return found


@needs_tex
def test_whatever_the_parser_accepts_compiles(tmp_path):
    samples = accepted_samples(200)
    assert len(samples) >= 50
    compile_all(samples, tmp_path)
