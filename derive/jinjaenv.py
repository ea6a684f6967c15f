"""Jinja's settings for derive's LaTeX templates (\\VAR{}/\\BLOCK{} delimiters), and the fixed preamble, which
needs none of the filters (nor SymPy) and so is ready before a spec is read."""
from __future__ import annotations

from functools import lru_cache

import jinja2

from .resources import resource

SETTINGS = dict(
    block_start_string=r"\BLOCK{", block_end_string="}",
    variable_start_string=r"\VAR{", variable_end_string="}",
    comment_start_string=r"\#{", comment_end_string="}",
    line_comment_prefix="%#",
    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    autoescape=False, undefined=jinja2.StrictUndefined,
)


def loader() -> jinja2.FileSystemLoader:
    """Templates from the package's templates folder."""
    return jinja2.FileSystemLoader(str(resource("templates")))


@lru_cache(maxsize=1)
def fixed_preamble() -> str:
    """The key's and question sheet's preamble (templates/preamble.tex.j2), up to and including the mark line."""
    return jinja2.Environment(loader=loader(), **SETTINGS).get_template("preamble.tex.j2").render()
