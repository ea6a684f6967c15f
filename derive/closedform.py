"""Closed-form numbers (SPEC §13) like `"1 + sqrt(2)/2"`, parsed by hand into exact SymPy values, never evaluated."""

import math
import re
from typing import NamedTuple

import sympy
from sympy.core.evalf import PrecisionExhausted

MAX_LENGTH, MAX_DEPTH = 200, 50  # characters of a closed form; nested parentheses
MAX_DIGITS, MAX_EXPONENT = 100, 400  # digits of one literal's mantissa; |n| of its decimal exponent `e<n>`
MAX_POWER, MAX_WORK = 1000, 10 ** 6  # |x| of any `^ x` or `exp(x)`; bits SymPy may build in one step (see `effort`)
MAX_EXACT, MAX_ROOT = 10 ** 500, 10 ** 100  # numerator, denominator of any rational; of a rational under a root
NAMES = ("sqrt", "exp", "log", "pi", "e")
TOKEN = re.compile(r"(?P<space>[ \t\r\n]+)"
                   r"|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?![A-Za-z0-9_.]))"
                   r"|(?P<malformed>[0-9.][A-Za-z0-9_.]*)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^()])")
Token = NamedTuple("Token", [("kind", str), ("lexeme", str), ("char", int)])  # number|name|op|end, 1-based position


class ClosedFormError(ValueError):
    """Raised with the reason a string is not a closed form of §13; callers add file and line."""


def refuse(test: bool, message: str) -> None:
    """Raise `message` when `test` holds."""
    if test:
        raise ClosedFormError(message)


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, refusing anything outside the grammar; the last token is `end`."""
    tokens, pos, depth = [], 0, 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None:
            raise ClosedFormError(f"unexpected {text[pos]!r} at character {pos + 1}")
        kind, word, pos = m.lastgroup or "", m.group(), m.end()
        refuse(kind == "malformed", f"malformed number {word!r} at character {m.start() + 1}")
        if kind == "name" and word not in NAMES:
            raise ClosedFormError(f"{word!r} is not allowed: a closed form is parsed, never run as code"
                                  if word[0] == "_" else f"unknown name {word!r} (allowed: {', '.join(NAMES)})")
        refuse(word == "**", f"use ^ for powers, not ** (at character {m.start() + 1})")
        depth += (word == "(") - (word == ")")
        refuse(depth > MAX_DEPTH, f"parentheses nested more than {MAX_DEPTH} deep at character {m.start() + 1}")
        if kind != "space":
            tokens.append(Token(kind, word, m.start() + 1))
    return tokens + [Token("end", "", len(text) + 1)]


def unexpected(token: Token) -> ClosedFormError:
    """The error for a token that cannot stand where it stands."""
    hint = " (write * to multiply)" if token.kind in ("number", "name") or token.lexeme == "(" else ""
    return ClosedFormError("unexpected end of expression" if token.kind == "end"
                           else f"unexpected {token.lexeme!r} at character {token.char}{hint}")


def read_number(token: Token) -> sympy.Rational:
    """Read a decimal literal (`0.1`, `1e-5`, `.5`, `1.`) exactly."""
    mantissa, _, exponent = token.lexeme.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    if len(whole + fraction) > MAX_DIGITS or abs(int(exponent or "0")) > MAX_EXPONENT:
        raise ClosedFormError(f"number at character {token.char}: over 100 digits or exponent over ±400")
    return sympy.Rational(int(whole + fraction or "0"), 10 ** len(fraction)) * sympy.Integer(10) ** int(exponent or "0")


def sign(value: sympy.Expr, what: str, token: Token) -> int:
    """The sign of a real `value`, exact for rationals, else numeric: never SymPy's costly proofs that a number is 0."""
    if not value.is_Rational:
        try:
            value = value.evalf(15, strict=True)
        except PrecisionExhausted as error:
            raise ClosedFormError(f"cannot tell the sign of {what} at character {token.char}") from error
    return int(sympy.sign(value))


def checked(value: sympy.Expr, token: Token) -> sympy.Expr:
    """`value`, unless it holds a rational (even under a root) of more than 500 digits."""
    if any(max(abs(r.p), r.q) > MAX_EXACT for r in value.atoms(sympy.Rational)):
        raise ClosedFormError(f"result at character {token.char} has an exact number of more than 500 digits")
    return value


def effort(parts: list[sympy.Expr], p: int = 1, q: int = 1) -> float:
    """Overestimate the bits SymPy may build combining `parts` (under an exponent p/q): root exponents multiply."""
    rationals = set().union(*(part.atoms(sympy.Rational) for part in parts))
    if q > 1 and any(max(abs(r.p), r.q) > MAX_ROOT for r in rationals):
        return math.inf  # factoring a long number under a root could take ages
    roots = [max((r.exp.q for r in part.atoms(sympy.Pow) if r.exp.is_Rational), default=1) for part in parts]
    return (p + q) * math.prod(roots) * sum(max(abs(r.p), r.q).bit_length() for r in rationals)


def power(base: sympy.Expr, exponent: sympy.Expr, token: Token, what: str = "power") -> sympy.Expr:
    """`base ^ exponent`, real, finite and of bounded size; `what` names it in messages."""
    where = f"{what} at character {token.char}"
    refuse(abs(exponent.evalf(15)) > MAX_POWER, f"{where}: exponent larger than {MAX_POWER} in size")  # it is real
    side = sign(base, "the base", token)
    refuse(side == 0 and sign(exponent, "the exponent", token) < 0, f"division by zero at character {token.char}"
           " (0 to a negative power)")
    refuse(side < 0 and not exponent.is_Integer, f"{where}: non-integer power of a negative number is not real")
    if exponent.is_Rational:
        work = effort([base], abs(exponent.p), exponent.q)
    else:  # SymPy turns exp(c*log(b)) into b^c, c made of the rationals outside the logs
        both = sympy.Tuple(base, exponent)
        outside = both.replace(sympy.log, lambda *_: sympy.Dummy()).atoms(sympy.Rational) | {sympy.Integer(1)}
        work = effort([log.args[0] for log in both.atoms(sympy.log)],
                      max(abs(r.p) for r in outside), max(r.q for r in outside))
    refuse(work > MAX_WORK, f"{where}: too big to compute exactly")
    return checked(base ** exponent, token)


def call(fn: Token, argument: sympy.Expr) -> sympy.Expr:
    """Apply `sqrt`, `exp` (as e^x) or `log` exactly, keeping the result real and finite."""
    if fn.lexeme == "exp":
        return power(sympy.E, argument, fn, "exp")
    if fn.lexeme == "log":
        refuse(sign(argument, "log's argument", fn) <= 0, f"log of a non-positive number at character {fn.char}")
        return sympy.log(argument)
    refuse(sign(argument, "sqrt's argument", fn) < 0, f"sqrt of a negative number at character {fn.char}")
    return power(argument, sympy.Rational(1, 2), fn, "sqrt")


class Parser:
    """Recursive descent over the tokens of one closed form; each method parses one rule."""

    def __init__(self, tokens: list[Token]) -> None:
        self.next, self.rest = tokens[0], iter(tokens[1:])

    def take(self) -> Token:
        """Consume and return the next token; the `end` token repeats."""
        token, self.next = self.next, next(self.rest, self.next)
        return token

    def expr(self) -> sympy.Expr:
        """expr := term (('+'|'-') term)*"""
        value = self.term()
        while self.next.lexeme in ("+", "-"):
            op, right = self.take(), self.term()
            value = checked(value + right if op.lexeme == "+" else value - right, op)
        return value

    def term(self) -> sympy.Expr:
        """term := unary (('*'|'/') unary)*"""
        value = self.unary()
        while self.next.lexeme in ("*", "/"):
            op, right = self.take(), self.unary()
            refuse(op.lexeme == "/" and sign(right, "the divisor", op) == 0, f"division by zero at character {op.char}")
            refuse(effort([value, right]) > MAX_WORK, f"{op.lexeme!r} at character {op.char}: too big to compute")
            value = checked(value * right if op.lexeme == "*" else value / right, op)
        return value

    def unary(self) -> sympy.Expr:
        """unary := ('-'|'+') unary | power, so signs apply after `^`: `-2^2` is -4."""
        if self.next.lexeme in ("+", "-"):
            return -self.unary() if self.take().lexeme == "-" else self.unary()
        return self.power()

    def power(self) -> sympy.Expr:
        """power := atom ('^' unary)?, so `2^3^2` is 2^9 and `2^-1` is 1/2."""
        base = self.atom()
        if self.next.lexeme != "^":
            return base
        op = self.take()
        return power(base, self.unary(), op)

    def atom(self) -> sympy.Expr:
        """atom := number | 'pi' | 'e' | ('sqrt'|'exp'|'log') '(' expr ')' | '(' expr ')'"""
        token = self.take()
        if token.kind == "number":
            return read_number(token)
        if token.lexeme in ("pi", "e"):
            return sympy.pi if token.lexeme == "pi" else sympy.E
        refuse(token.kind == "name" and self.next.lexeme != "(",
               f"expected '(' after {token.lexeme!r} at character {token.char}")
        if token.kind == "name":
            return call(token, self.parenthesized(self.take()))
        if token.lexeme == "(":
            return self.parenthesized(token)
        raise unexpected(token)

    def parenthesized(self, opening: Token) -> sympy.Expr:
        """The expression after the '(' `opening`, up to its matching ')'."""
        value, closing = self.expr(), self.take()
        refuse(closing.kind == "end", f"missing ')' for the '(' at character {opening.char}")
        if closing.lexeme != ")":
            raise unexpected(closing)
        return value


def parse_closed_form(text: str) -> sympy.Expr:
    """Parse a closed form of SPEC §13 into an exact, real, finite SymPy value, or raise ClosedFormError."""
    refuse(len(text) > MAX_LENGTH, f"longer than {MAX_LENGTH} characters")
    refuse(not text.strip(" \t\r\n"), "empty expression")
    parser = Parser(tokenize(text))
    value = parser.expr()
    if parser.next.kind != "end":
        raise unexpected(parser.next)
    refuse(value.is_extended_real is not True or value.is_finite is not True, "not a finite real number")
    return value
