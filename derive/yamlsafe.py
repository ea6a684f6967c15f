"""Read YAML safely into plain data, keeping the line of every value and the text of every scalar."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Message, SpecError

try:  # libyaml is much faster; both keep marks
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

STANDARD_TAGS = {f"tag:yaml.org,2002:{t}" for t in
                 ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "merge", "value")}
MAX_NODES = 1_000_000  # values visited while expanding aliases: past this it is an alias bomb


class Plain(str):
    """A plain (unquoted) YAML scalar, kept as its source text so numbers are read exactly."""

    __slots__ = ()


Path = tuple  # ("problems", 2, "layers", 1, "weights")


@dataclass
class Document:
    """Parsed YAML: plain data plus the 1-based line of every path in it."""

    data: Any
    file: str
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest located ancestor."""
        path = tuple(path)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)


def read_yaml(text: str, file: str, max_nodes: int = MAX_NODES) -> Document:
    """Parse `text`; every problem with the YAML itself is a SpecError naming file and line."""
    if "\t" in text:
        for n, row in enumerate(text.splitlines(), 1):
            stripped = row.lstrip(" ")
            if stripped.startswith("\t"):
                raise SpecError(Message("tab characters cannot indent YAML; indent with spaces", file, n))
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = min(mark.line + 1, max(text.count("\n"), 1)) if mark else None
        what = exc.problem or "malformed YAML"
        raise SpecError(Message(f"YAML syntax error: {what}", file, line)) from None
    except yaml.YAMLError as exc:
        raise SpecError(Message(f"YAML syntax error: {exc}", file, None)) from None
    doc = Document(None, file)
    if root is None:
        return doc
    counter = [0, max_nodes]
    duplicates: list = []
    doc.data = _convert(root, (), doc, counter, duplicates)
    if duplicates:
        path, key, line, first = duplicates[0]
        raise SpecError(Message(f"duplicate key {key!r} (first given on line {first})", file, line,
                                label(doc.data, path + (key,))))
    return doc


def label(data: Any, path: Path) -> str:
    """`q1.logits` for ("problems", 0, "logits") when problem 0 has id q1; else the dotted path."""
    parts = list(path)
    text = ""
    if len(parts) >= 2 and parts[0] == "problems" and isinstance(parts[1], int):
        try:
            pid = data["problems"][parts[1]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            pid = None
        text = str(pid) if isinstance(pid, str) else f"problems[{parts[1]}]"
        parts = parts[2:]
    for key in parts:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _convert(node: yaml.Node, path: Path, doc: Document, counter: list[int], duplicates: list) -> Any:
    """Turn a composed node into dict / list / Plain / str, recording lines."""
    counter[0] += 1
    if counter[0] > counter[1]:
        raise SpecError(Message(f"too many values after expanding aliases (over {counter[1]:,}): "
                                "alias bombs are refused", doc.file, node.start_mark.line + 1))
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if node.tag not in STANDARD_TAGS:
        raise SpecError(Message(f"YAML tag {node.tag!r} is not allowed (no tags that build objects)",
                                doc.file, node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError(Message("mapping keys must be plain text", doc.file, key_node.start_mark.line + 1))
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first:
                duplicates.append((path, key, line, first[key]))
                continue
            first[key] = line
            doc.lines[path + (key,)] = line
            out[key] = _convert(value_node, path + (key,), doc, counter, duplicates)
            doc.lines[path + (key,)] = line if isinstance(value_node, yaml.CollectionNode) else value_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), doc, counter, duplicates) for i, item in enumerate(node.value)]
    if not node.style:  # None (pure-Python loader) or '' (libyaml) for a plain scalar
        return Plain(node.value)
    return str(node.value)
