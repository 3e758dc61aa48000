"""YAML reading that remembers where every key came from (layer 1).

:func:`load_yaml` returns plain ``dict``/``list`` subclasses (:class:`YDict`,
:class:`YList`) that carry the file name and the line of every key and item, so
that validation errors can say ``file:line: key.path: message``.
"""
from __future__ import annotations

import os

import yaml

from hwsim.errors import ConfigError


class YDict(dict):
    """A mapping read from YAML; ``key_lines[key]`` is the 1-based line of a key."""
    file: str | None = None
    line: int | None = None

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.key_lines: dict = {}


class YList(list):
    """A sequence read from YAML; ``item_lines[i]`` is the line of item i."""
    file: str | None = None
    line: int | None = None

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.item_lines: list = []


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    out = YDict()
    out.file = loader.name
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise ConfigError(f"duplicate key '{key}'", file=loader.name,
                              line=key_node.start_mark.line + 1, key=str(key))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader, node):
    out = YList()
    out.file = loader.name
    out.line = node.start_mark.line + 1
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.item_lines.append(item.start_mark.line + 1)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_text(text: str, name: str = "<string>"):
    """Parse YAML text; syntax errors become :class:`ConfigError` with a line."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:     # a control character: not a text file
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(f"unacceptable character #x{exc.character:04x} (not YAML text)",
                          file=name, line=line) from None
    loader.name = name
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"YAML syntax error: {exc.problem or exc}", file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=name) from None
    finally:
        loader.dispose()


def decode_text(raw: bytes, name: str) -> str:
    """The UTF-8 text of a file; anything else (binary, UTF-16, Latin-1) is a
    :class:`ConfigError` at the line of the first offending byte."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError("UTF-16 text: save the file as UTF-8", file=name, line=1)
    nul = raw.find(b"\0")
    if nul >= 0:
        raise ConfigError("NUL byte: a binary file, not YAML text", file=name,
                          line=raw.count(b"\n", 0, nul) + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {col} "
                          f"(save the file as UTF-8)", file=name, line=line) from None
    return text[1:] if text.startswith("\ufeff") else text


def load_yaml(path: str):
    """Read a YAML file; a missing file is a :class:`ConfigError` naming it."""
    if not os.path.isfile(path):
        raise ConfigError("file not found", file=path)
    with open(path, "rb") as fh:
        raw = fh.read()
    data = load_yaml_text(decode_text(raw, path), name=path)
    if data is None:
        raise ConfigError("file is empty", file=path)
    return data


def line_of(container, key) -> int | None:
    """Line of ``key`` in a YAML mapping/sequence, else the container's own line."""
    if isinstance(container, YDict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, YList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", None)


def file_of(container, default: str | None = None) -> str | None:
    return getattr(container, "file", None) or default
