"""Read YAML safely into plain data, keeping the line of every value and the text of every scalar.

The document is built from libyaml's event stream by our own small composer, so nesting is bounded
before it can exhaust the stack (libyaml itself slows quadratically and crashes on deep flow nesting),
a recursive alias is refused, and aliases cannot multiply the data past a bound.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Message, SpecError

try:  # libyaml is much faster; both keep marks
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

YAML_TAG = "tag:yaml.org,2002:"
STANDARD_TAGS = {f"{YAML_TAG}{t}" for t in
                 ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "merge", "value")}
STRING_TAGS = {"!", f"{YAML_TAG}str"}   # an explicit string: `!!str 8` is the text "8", never a number
MAX_NODES = 1_000_000  # values added by expanding aliases: past this it is an alias bomb
MAX_DEPTH = 64         # nested lists and mappings


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


def read_yaml(text: str, file: str, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> Document:
    """Parse `text`; every problem with the YAML itself is a SpecError naming file and line."""
    _refuse_tabs(text, file)
    doc = Document(None, file)
    composer = _Composer(doc, max_nodes, max_depth)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            composer.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = min(mark.line + 1, max(text.count("\n"), 1)) if mark else None
        raise SpecError(Message(f"YAML syntax error: {exc.problem or 'malformed YAML'}", file, line)) from None
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SpecError(Message(f"YAML cannot hold the control character U+{char:04X} (a binary file?)",
                                file, line)) from None
    except yaml.YAMLError as exc:
        raise SpecError(Message(f"YAML syntax error: {exc}", file, None)) from None
    composer.finish()
    return doc


def _refuse_tabs(text: str, file: str) -> None:
    """Tabs cannot indent YAML: say so with the line (libyaml's own message is obscure)."""
    if "\t" not in text:
        return
    for n, row in enumerate(text.splitlines(), 1):
        if row.lstrip(" ").startswith("\t"):
            raise SpecError(Message("tab characters cannot indent YAML; indent with spaces", file, n))


class _Composer:
    """Builds dict / list / Plain / str from parser events, with lines, bounds and alias checks."""

    def __init__(self, doc: Document, max_nodes: int, max_depth: int):
        self.doc, self.max_nodes, self.max_depth = doc, max_nodes, max_depth
        self.stack: list[list] = []          # open collections: [container, path, anchor, pending key, size]
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.expanded = 0                    # values added by aliases
        self.documents = 0
        self.duplicate: tuple | None = None
        self.first_keys: list[dict[str, int]] = []

    def error(self, text: str, event: yaml.Event) -> SpecError:
        """A SpecError at the event's line."""
        return SpecError(Message(text, self.doc.file, event.start_mark.line + 1))

    def feed(self, event: yaml.Event) -> None:
        """Take one parser event."""
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.error("expected one YAML document, got more (remove the extra '---')", event)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self._open(event)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self._close()
        elif isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)

    def _check_tag(self, event: yaml.NodeEvent) -> None:
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and tag not in STANDARD_TAGS:
            raise self.error(f"YAML tag {tag!r} is not allowed (no tags that build objects)", event)

    def _open(self, event: yaml.CollectionStartEvent) -> None:
        self._check_tag(event)
        if len(self.stack) >= self.max_depth:
            raise self.error(f"values nested more than {self.max_depth} levels deep", event)
        path = self._path_for_child(event)
        mapping = isinstance(event, yaml.MappingStartEvent)
        self.doc.lines.setdefault(path, event.start_mark.line + 1)
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append([{} if mapping else [], path, event.anchor, None, 1, {} if mapping else None])

    def _close(self) -> None:
        container, path, anchor, _key, size, _first = self.stack.pop()
        if anchor:
            self.open_anchors.discard(anchor)
            self.anchors[anchor] = (container, size)
        self._attach(container, path, size, None)

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        self._check_tag(event)
        quoted = bool(event.style) or event.tag in STRING_TAGS
        value = str(event.value) if quoted else Plain(event.value)
        if self.stack and isinstance(self.stack[-1][0], dict) and self.stack[-1][3] is None:
            self._key(value, event)
            return
        path = self._path_for_child(event)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        self._attach(value, path, 1, event.start_mark.line + 1)

    def _key(self, key: str, event: yaml.ScalarEvent) -> None:
        """A mapping key: remember it (duplicates are reported after the whole file is read)."""
        top = self.stack[-1]
        line = event.start_mark.line + 1
        first = top[5]
        if key in first and self.duplicate is None:
            self.duplicate = (top[1], key, line, first[key])
        first.setdefault(key, line)
        top[3] = (str(key), line)

    def _alias(self, event: yaml.AliasEvent) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise self.error(f"alias *{name} refers to a value that contains it (a recursive structure)", event)
        if name not in self.anchors:
            raise self.error(f"alias *{name} has no anchor &{name} before it", event)
        value, size = self.anchors[name]
        self.expanded += size
        if self.expanded > self.max_nodes:
            raise self.error(f"too many values after expanding aliases (over {self.max_nodes:,}): "
                             "alias bombs are refused", event)
        if self.stack and isinstance(self.stack[-1][0], dict) and self.stack[-1][3] is None:
            raise self.error("mapping keys must be plain text, not aliases", event)
        path = self._path_for_child(event)
        self._attach(copy.deepcopy(value), path, size, event.start_mark.line + 1)

    def _path_for_child(self, event: yaml.Event) -> Path:
        """The path the next value will have; a collection as a mapping key is refused."""
        if not self.stack:
            return ()
        container, path, _anchor, key, _size, _first = self.stack[-1]
        if isinstance(container, dict):
            if key is None:
                raise self.error("mapping keys must be plain text", event)
            return path + (key[0],)
        return path + (len(container),)

    def _attach(self, value: Any, path: Path, size: int, line: int | None) -> None:
        """Put a finished value into its parent (or make it the document)."""
        if not self.stack:
            self.doc.data = value
            return
        top = self.stack[-1]
        container, key = top[0], top[3]
        top[4] += size
        if isinstance(container, dict):
            name, key_line = key
            top[3] = None
            if name not in container:   # a duplicate's value is dropped; finish() reports it
                self.doc.lines[path] = line if line is not None else key_line
                container[name] = value
        else:
            if line is not None:
                self.doc.lines[path] = line
            container.append(value)

    def finish(self) -> None:
        """Raise the first duplicate key found, with the line of its first occurrence."""
        if self.duplicate is not None:
            path, key, line, first = self.duplicate
            raise SpecError(Message(f"duplicate key {key!r} (first given on line {first})", self.doc.file, line,
                                    label(self.doc.data, path + (key,))))


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
