"""``--set dotted.key=value`` overrides applied to YAML data before validation (layer 1)."""
from __future__ import annotations

import yaml

from hwsim.config.yamlio import YDict, YList
from hwsim.errors import ConfigError


def parse_set_args(items) -> dict:
    """``["tile.rows=128", ...]`` -> ``{"tile.rows": 128}`` (values parsed as YAML scalars)."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects dotted.key=value, got '{item}'", file="--set")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


def apply_overrides(data, overrides: dict, path: str):
    """Set each dotted key in the (line-tracking) YAML data; intermediate maps are created."""
    for dotted, value in overrides.items():
        node = data
        parts = dotted.split(".")
        for i, part in enumerate(parts[:-1]):
            key = int(part) if isinstance(node, list) and part.isdigit() else part
            if isinstance(node, list):
                if not isinstance(key, int) or key >= len(node):
                    raise ConfigError(f"--set {dotted}: no item {part}", file=path,
                                      key=".".join(parts[:i + 1]))
                node = node[key]
                continue
            if key not in node or node[key] is None:
                child = YDict()
                child.file, child.line = "--set", None
                node[key] = child
                if isinstance(node, YDict):
                    node.key_lines[key] = None
            elif not isinstance(node[key], (dict, list)):
                raise ConfigError(f"--set {dotted}: '{part}' is not a section", file=path,
                                  key=".".join(parts[:i + 1]))
            node = node[key]
        last = parts[-1]
        if isinstance(node, (list, YList)):
            if not last.isdigit() or int(last) >= len(node):
                raise ConfigError(f"--set {dotted}: no item {last}", file=path, key=dotted)
            node[int(last)] = value
        else:
            node[last] = value
            if isinstance(node, YDict):
                node.key_lines[last] = None
    return data
