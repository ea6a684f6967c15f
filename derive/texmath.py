"""Inline math from a spec, checked by a recursive-descent parse of a small grammar: what passes compiles.

  math := item*      item := atom | '^' arg | '_' arg | "'"+ ['^' arg]   (one of each script per atom)
  atom := char | '{' math '}' | symbol | operator | \\frac arg arg | \\sqrt ['[' math ']'] arg | \\hat arg …
        | \\mathcal{LETTERS} | \\text{words} | \\operatorname[*]{name} | \\left D math \\right D | \\big D
  arg  := char | symbol | '{' math '}'      (whitespace is ignored, as TeX ignores it in math)
"""
from __future__ import annotations

import re
import string
from typing import Callable, NamedTuple

MAX_CHARS = 2000    # characters in one `$…$`
MAX_DEPTH = 50      # groups, arguments and \left…\right pairs inside one another
MAX_COPIES = 3      # \boldsymbol, \sqrt[n] and \text inside one another (each typesets its contents 4 times)

GREEK = """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho sigma
tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split()
# Symbols TeX reads as one math character: they may stand alone as an argument (x^\alpha, \frac\pi2).
SYMBOLS = frozenset(GREEK + """cdot times div pm mp le leq ge geq ne neq approx equiv sim propto in subset subseteq
cup cap to rightarrow leftarrow Rightarrow mapsto infty partial nabla lfloor rfloor lceil rceil langle rangle top
intercal circ odot otimes oplus prime mid lVert rVert Vert""".split())
# No arguments, but macros that TeX cannot take as a bare argument: x^{\log}, never x^\log.
OPERATORS = frozenset("sum prod int log ln exp max min arg argmax argmin lim sin cos tan tanh".split())
SPACING = frozenset("notin ldots cdots vdots ddots quad qquad".split())
ACCENTS = frozenset("hat bar tilde vec dot ddot mathbf mathrm mathit boldsymbol".split())
LETTER_FONTS, FRACTIONS = frozenset({"mathcal", "mathbb"}), frozenset({"frac", "dfrac", "tfrac"})
BIG = frozenset("big Big bigl bigr Bigl Bigr".split())
SPECIAL = frozenset("sqrt text operatorname left right".split())
COMMANDS = SYMBOLS | OPERATORS | SPACING | ACCENTS | LETTER_FONTS | FRACTIONS | BIG | SPECIAL

CONTROL_SYMBOLS = frozenset(",;: !{}|")     # \, \; \: \  \! \{ \} \|
BARE_CONTROL_SYMBOLS = frozenset("{}|")     # those that may stand alone as an argument
DELIMITER_CHARS = frozenset("()[].|")
DELIMITER_COMMANDS = frozenset("langle rangle lfloor rfloor lceil rceil lVert rVert Vert".split())
DELIMITERS_SHOWN = r"( ) [ ] | . \{ \} \| \langle \rangle \lfloor \rfloor \lceil \rceil \lVert \rVert \Vert"
LETTERS, UPPER, DIGITS = frozenset(string.ascii_letters), frozenset(string.ascii_uppercase), frozenset(string.digits)
PUNCTUATION = frozenset("+-*/=<>()[],;:!'.|")
UNKNOWN_COMMAND = (" is not allowed in math (allowed: Greek letters, \\frac, \\sqrt, \\sum, \\hat, \\mathbf, \\text "
                   "and other formula commands)")
TOKEN = re.compile(r"\\([A-Za-z]+)|\\(.?)|([{}^_])|([ \t\n]+)|(.)", re.S)


TEXT_MODE, NAMED_OPERATOR = "text operatorname".split()   # the commands whose argument is words


class MathError(ValueError):
    """Math outside the grammar (prose.check_math turns it into UnsafeText)."""


class Tok(NamedTuple):
    """One token: kind is cmd (\\name), sym (\\, \\{ …), char, space, or one of { } ^ _."""

    kind: str
    lexeme: str


RIGHT, PRIME, CLOSE, CARET = Tok("cmd", "right"), Tok("char", "'"), Tok("}", "}"), Tok("^", "^")
OPEN_BRACKET, CLOSE_BRACKET, STAR = Tok("char", "["), Tok("char", "]"), Tok("char", "*")


def show(tok: Tok) -> str:
    """A token as the user wrote it."""
    return "\\" + tok.lexeme if tok.kind in ("cmd", "sym") else tok.lexeme


def tokenize(math: str) -> list[Tok]:
    """TeX's tokens of the math, whitespace runs kept as one space token."""
    kinds = ("cmd", "sym", "", "space", "char")
    return [Tok(kind or text, " " if kind == "space" else text)
            for m in TOKEN.finditer(math) for kind, text in zip(kinds, m.groups()) if text is not None]


def lex(math: str) -> list[Tok]:
    """The tokens, checked by the lexical rules: known commands only, allowed characters, balanced braces."""
    toks = tokenize(math)
    for tok in toks:
        if tok.kind == "cmd" and tok.lexeme not in COMMANDS:
            raise MathError("\\" + tok.lexeme + UNKNOWN_COMMAND)
        if tok.kind == "sym" and tok.lexeme not in CONTROL_SYMBOLS:
            why = " (no line breaks inside $…$)" if tok.lexeme == "\\" else ""
            raise MathError(f"'\\{tok.lexeme}' is not allowed in math{why}")
    for tok in toks:
        if tok.kind == "char" and not (tok.lexeme in LETTERS or tok.lexeme in DIGITS or tok.lexeme in PUNCTUATION):
            raise MathError(f"character {tok.lexeme!r} is not allowed in math")
    depth = 0
    for tok in toks:
        depth += (tok.kind == "{") - (tok.kind == "}")
        if depth < 0:
            raise MathError("unbalanced braces in math: a '}' closes nothing")
    if depth:
        raise MathError("unbalanced braces in math: a '{' is never closed")
    if re.search(r"\n[ \t]*\n", math):
        raise MathError("a blank line is not allowed in math")
    return toks


def parse(math: str) -> None:
    """Check one `$…$` body against the grammar; raise MathError with a short reason if it is outside."""
    if len(math) > MAX_CHARS:
        raise MathError(f"math is longer than {MAX_CHARS} characters")
    if not math:
        raise MathError("empty math: '$$' is not allowed (write \\$ for a dollar sign)")
    if "^^" in math:
        raise MathError("'^^' is not allowed in math")
    Parser(lex(math)).whole()


def example(owner: str) -> str:
    """How a command or script is written with its arguments."""
    if owner in ("^", "_"):
        return f"x{owner}2 or x{owner}{{ab}}"
    return owner + ("{a}{b}" if owner[1:] in FRACTIONS else "{x}")


class Parser:
    """Recursive descent over a token list; each method consumes one construct or raises MathError."""

    def __init__(self, toks: list[Tok], depth: int = 0, copies: int = 0) -> None:
        """Start at the first token, `depth` levels deep, inside `copies` constructs that typeset 4 copies."""
        self.toks, self.i, self.depth, self.copies = toks, 0, depth, copies

    def peek(self, skip: bool = True) -> Tok | None:
        """The next token (past whitespace unless `skip` is false), or None at the end."""
        while skip and self.i < len(self.toks) and self.toks[self.i].kind == "space":
            self.i += 1
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, skip: bool = True) -> Tok | None:
        """Consume and return the next token."""
        tok = self.peek(skip)
        self.i += tok is not None
        return tok

    def nested(self, parse: Callable[[], None]) -> None:
        """Parse one level deeper, within MAX_DEPTH."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MathError(f"math nests deeper than {MAX_DEPTH} levels")
        parse()
        self.depth -= 1

    def copied(self, parse: Callable[[], None]) -> None:
        """Parse what \\boldsymbol, \\sqrt[n] or \\text typesets four times, within MAX_COPIES of them nested."""
        self.copies += 1
        if self.copies > MAX_COPIES:
            raise MathError(f"\\boldsymbol, \\sqrt[n] and \\text nest at most {MAX_COPIES} deep in math "
                            "(TeX typesets the contents of each four times)")
        parse()
        self.copies -= 1

    def whole(self) -> None:
        """The entire token list is one math list."""
        self.sequence()
        if (tok := self.peek()) is not None:
            raise MathError("\\right has no matching \\left" if tok == RIGHT else
                            "unbalanced braces in math: a '}' closes nothing")

    def sequence(self) -> None:
        """Atoms with their scripts, up to a `}`, a `\\right` or the end."""
        sup = sub = False
        while (tok := self.peek()) is not None and tok.kind != "}" and tok != RIGHT:
            if tok.kind == "^" or tok == PRIME:
                if sup:
                    raise MathError("double superscript in math (write {a^b}^c or a^{bc})")
                if tok == PRIME:
                    self.primes()
                else:
                    self.argument(self.take().kind)
                sup = True
            elif tok.kind == "_":
                if sub:
                    raise MathError("double subscript in math (write {a_b}_c or a_{bc})")
                self.argument(self.take().kind)
                sub = True
            else:
                self.atom()
                sup = sub = False

    def primes(self) -> None:
        """x'' is one superscript; a `^` right after the primes (no space) joins it, as LaTeX's prime does."""
        while self.peek(skip=False) == PRIME:
            self.take(skip=False)
        if self.peek(skip=False) == CARET:
            self.take(skip=False)
            self.argument("^")

    def atom(self) -> None:
        """One character, group, symbol or command with its arguments."""
        if self.peek().kind == "{":
            self.group()
        elif (tok := self.take()).kind == "cmd":
            self.command(tok.lexeme)

    def group(self) -> None:
        """`{ math }`."""
        self.take()
        self.nested(self.sequence)
        tok = self.take()
        if tok != CLOSE:
            raise MathError("\\right has no matching \\left" if tok == RIGHT else "unbalanced braces in math")

    def argument(self, owner: str) -> None:
        """One argument: a character, a symbol or a group; anything larger must be braced."""
        tok = self.peek()
        if tok is None or tok.kind in ("}", "^", "_") or tok == RIGHT:
            twice = owner[1:] in FRACTIONS
            raise MathError(f"{owner} needs {'two arguments' if twice else 'an argument'}, as in {example(owner)}")
        if tok.kind == "{":
            self.group()
            return
        self.take()
        if (tok.kind == "char" and tok != PRIME or tok.kind == "cmd" and tok.lexeme in SYMBOLS
                or tok.kind == "sym" and tok.lexeme in BARE_CONTROL_SYMBOLS):
            return
        where = "x" + owner if owner in ("^", "_") else owner
        raise MathError(f"{show(tok)} must be in braces as the argument of {owner}, as in {where}{{{show(tok)}…}}")

    def command(self, name: str) -> None:
        """The arguments a command takes, by its kind."""
        owner = "\\" + name
        if name == "boldsymbol":
            self.copied(lambda: self.argument(owner))
        elif name in ACCENTS:
            self.argument(owner)
        elif name in FRACTIONS:
            self.argument(owner)
            self.argument(owner)
        elif name in LETTER_FONTS:
            self.word(owner, UPPER | {" "}, f"upper-case letters only, as in {owner}{{R}}", bare=True, letter=True)
        elif name in BIG:
            self.delimiter(owner)
        elif name == "sqrt":
            self.sqrt()
        elif name == TEXT_MODE:
            self.copied(lambda: self.word(owner, LETTERS | DIGITS | PUNCTUATION | {" "},
                                          "only letters, digits, spaces and punctuation, as in \\text{ if }"))
        elif name == "operatorname":
            if self.peek() == STAR:
                self.take()
            self.word(owner, LETTERS | DIGITS | {" ", "-", "\\,"},
                      "a name of letters, as in \\operatorname{softmax}", letter=True)
        elif name == "left":
            self.left_right()

    def word(self, owner: str, allowed: frozenset[str], rule: str, bare: bool = False, letter: bool = False) -> None:
        """`{…}` of plain characters from `allowed`, or one bare character if `bare`; `letter`: at least one."""
        tok = self.peek()
        if bare and tok is not None and tok.kind == "char" and tok.lexeme in allowed:
            self.take()
            return
        if tok is None or tok.kind != "{":
            raise MathError(f"{owner} takes {rule}")
        self.take()
        chars = set()
        while (tok := self.take(skip=False)) is not None and tok.kind != "}":
            text = show(tok) if tok.kind == "sym" else tok.lexeme
            if tok.kind not in ("char", "space", "sym") or text not in allowed:
                raise MathError(f"'{show(tok)}' is not allowed in {owner}{{}}: it takes {rule}")
            chars.add(text)
        if letter and not chars & LETTERS:
            raise MathError(f"{owner} takes {rule}")

    def sqrt(self) -> None:
        """`\\sqrt[n]{x}`: the index runs to the first `]` outside braces, as LaTeX reads it."""
        if self.peek() != OPEN_BRACKET:
            self.argument("\\sqrt")
            return
        self.take()
        end = self.closing_bracket()
        inner = Parser(self.toks[self.i:end], self.depth, self.copies)
        inner.nested(inner.whole)
        self.i = end + 1
        self.copied(lambda: self.argument("\\sqrt"))

    def closing_bracket(self) -> int:
        """Index of the `]` that ends a `\\sqrt[` index."""
        depth = 0
        for j in range(self.i, len(self.toks)):
            depth += (self.toks[j].kind == "{") - (self.toks[j].kind == "}")
            if depth < 0:
                break
            if depth == 0 and self.toks[j] == CLOSE_BRACKET:
                return j
        raise MathError("\\sqrt[ has no closing ] (write \\sqrt[n]{x}; a [ or ] inside n needs braces)")

    def delimiter(self, owner: str) -> str:
        """The delimiter after `\\left`, `\\right` or `\\big`."""
        tok = self.take()
        if tok is not None and (tok.kind == "char" and tok.lexeme in DELIMITER_CHARS
                                or tok.kind == "sym" and tok.lexeme in BARE_CONTROL_SYMBOLS
                                or tok.kind == "cmd" and tok.lexeme in DELIMITER_COMMANDS):
            return show(tok)
        raise MathError(f"{owner} needs a delimiter after it: one of {DELIMITERS_SHOWN}")

    def left_right(self) -> None:
        """`\\left( math \\right)`, both inside the same group."""
        opening = self.delimiter("\\left")
        self.nested(self.sequence)
        if self.take() != RIGHT:
            raise MathError(f"\\left{opening} has no matching \\right")
        self.delimiter("\\right")
