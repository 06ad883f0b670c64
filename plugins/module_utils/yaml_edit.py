# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Surgical edits of YAML text: change a few keys, keep every other byte.

Private to this collection (used by the ``agent_config`` module and the
``agent_yaml_set`` filter); not a public API, it may change without notice.

The text is parsed with PyYAML only to *locate* nodes (their start/end marks); the
edit itself is a splice of the original text, so comments, blank lines, key order,
quoting, line endings (LF or CRLF) and a missing final newline are preserved
everywhere outside the lines that change. Every result is parsed again and compared
with the expected data before it is returned (see ``verify``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

try:
    import yaml
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module
    HAS_YAML = False
    YAML_IMPORT_ERROR = exc

_NULLS = ("", "~", "null", "Null", "NULL")


class YamlEditError(ValueError):
    """The text cannot be edited safely; the message says why. The text is not changed."""


def split_path(key):
    """'logs_config.force_use_http' -> ('logs_config', 'force_use_http')."""
    if isinstance(key, (list, tuple)):
        parts = tuple(str(part) for part in key)
    else:
        parts = tuple(str(key).split("."))
    if not parts or any(part == "" for part in parts):
        raise YamlEditError("Invalid key %r: expected dotted names such as logs_config.force_use_http." % (key,))
    return parts


def newline_of(text):
    return "\r\n" if "\r\n" in text else "\n"


def _load(text, what="the file"):
    try:
        docs = list(yaml.compose_all(text, Loader=_UniqueKeyLoader))
    except yaml.YAMLError as exc:
        raise YamlEditError("%s is not valid YAML, left untouched: %s" % (what[0].upper() + what[1:], exc))
    docs = [doc for doc in docs if doc is not None] or [None]
    if len(docs) > 1:
        raise YamlEditError("%s holds %d YAML documents; expected one." % (what[0].upper() + what[1:], len(docs)))
    root = docs[0]
    if root is not None and not isinstance(root, MappingNode):
        if isinstance(root, ScalarNode) and root.value in _NULLS and root.tag.endswith(":null"):
            return None
        raise YamlEditError("%s is not a YAML mapping at its top level." % (what[0].upper() + what[1:]))
    return root


if HAS_YAML:

    class _UniqueKeyLoader(yaml.SafeLoader):
        """SafeLoader that refuses duplicate keys, as the Agent's YAML parser does."""

        def compose_node(self, parent, index):
            node = super(_UniqueKeyLoader, self).compose_node(parent, index)
            if isinstance(node, MappingNode):
                seen = {}
                for key, _value in node.value:
                    if isinstance(key, ScalarNode):
                        if key.value in seen:
                            raise yaml.constructor.ConstructorError(
                                None, None, "duplicate key %r" % key.value, key.start_mark
                            )
                        seen[key.value] = True
            return node

else:  # pragma: no cover
    _UniqueKeyLoader = None


def safe_load(text):
    root = _load(text)
    if root is None:
        return {}
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _construct(node):
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def same_value(left, right):
    """Equality that tells True from 1 and "true" from True."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return set(left) == set(right) and all(same_value(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same_value(a, b) for a, b in zip(left, right))
    return left == right


def render_scalar(value, style=None):
    """YAML text of a scalar; keeps the quote style of the value it replaces when it can."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if not isinstance(value, str):
        raise YamlEditError("Only scalar values (string, number, boolean, null) can be set, got %r." % (value,))
    if style == '"' or "\n" in value:
        return json.dumps(value)
    if style == "'":
        return "'%s'" % value.replace("'", "''")
    dumped = yaml.safe_dump(value, default_flow_style=True, width=1 << 30)
    if dumped.endswith("\n...\n"):
        dumped = dumped[: -len("\n...\n")]
    return dumped.rstrip("\n")


def render_key(key):
    text = render_scalar(key)
    try:
        if yaml.safe_load("%s: x" % text) != {key: "x"}:
            text = json.dumps(key)
    except yaml.YAMLError:
        text = json.dumps(key)
    return text


def _find(mapping, name):
    for key, value in mapping.value:
        if isinstance(key, ScalarNode) and key.value == name:
            return key, value
    return None, None


def _last_leaf(node):
    while isinstance(node, (MappingNode, SequenceNode)) and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node


def _line_start(text, index):
    return text.rfind("\n", 0, index) + 1


def _after_line(text, index):
    """Index of the start of the line after the one holding ``index`` (len(text) at EOF)."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _insertion_point(text, mapping):
    """Where a new entry of a block mapping (or sequence) goes: after its last entry."""
    leaf = _last_leaf(mapping)
    end = leaf.end_mark.index
    if isinstance(leaf, ScalarNode) and leaf.style in ("|", ">"):
        # Block scalars end at the start of the next line (after their line breaks).
        if end > 0 and text[end - 1] == "\n":
            return end
    return _after_line(text, max(end - 1, leaf.start_mark.index) if end > leaf.start_mark.index else end)


_DOC_END = re.compile(r"^\.\.\.[ \t]*(#.*)?\r?$", re.M)


def _document_end(text, root):
    """Where a new top-level key goes: end of file, or before a closing `...` line."""
    match = _DOC_END.search(text, _insertion_point(text, root) if root.value else 0)
    return match.start() if match else len(text)


def _ensure_newline_before(text, index, nl):
    """Return (text, index) so that text[:index] ends with a line break (or is empty)."""
    if index == 0 or text[index - 1] == "\n":
        return text, index
    return text[:index] + nl + text[index:], index + len(nl)


def _indent_unit(text, root):
    """The indentation step the file uses for nested block mappings (2 by default)."""
    steps = []

    def walk(node, column):
        if isinstance(node, MappingNode) and not node.flow_style:
            for key, value in node.value:
                if column is not None and key.start_mark.column > column:
                    steps.append(key.start_mark.column - column)
                if isinstance(value, MappingNode):
                    walk(value, key.start_mark.column)

    if root is not None:
        walk(root, None)
    return min(steps) if steps else 2


def _block(parts, value, indent, unit, nl):
    lines = []
    for depth, part in enumerate(parts):
        prefix = " " * (indent + depth * unit)
        if depth == len(parts) - 1:
            lines.append("%s%s: %s%s" % (prefix, render_key(part), render_scalar(value), nl))
        else:
            lines.append("%s%s:%s" % (prefix, render_key(part), nl))
    return "".join(lines)


def _flow(parts, value):
    text = render_scalar(value)
    for part in reversed(parts[1:]):
        text = "{%s: %s}" % (render_key(part), text)
    return "%s: %s" % (render_key(parts[0]), text)


def _set_one(text, parts, value):
    """Return text with ``parts`` set to ``value`` (one splice), or the same text."""
    nl = newline_of(text)
    root = _load(text)
    unit = _indent_unit(text, root)
    if root is None:
        # Empty file or comments only: a new block at the end.
        text, at = _ensure_newline_before(text, len(text), nl)
        return text[:at] + _block(parts, value, 0, unit, nl) + text[at:]

    node = root
    for depth, part in enumerate(parts):
        key, child = _find(node, part)
        here = ".".join(parts[: depth + 1])
        rest = parts[depth:]
        if key is None:
            if node.flow_style:
                # {a: 1} -> {a: 1, part: ...}; the mark ends after the closing brace.
                close = node.end_mark.index - 1
                sep = ", " if node.value else ""
                return text[:close] + sep + _flow(rest, value) + text[close:]
            if node is root:
                at = _document_end(text, root)
                indent = 0
            else:
                at = _insertion_point(text, node)
                indent = node.value[0][0].start_mark.column
            text, at = _ensure_newline_before(text, at, nl)
            return text[:at] + _block(rest, value, indent, unit, nl) + text[at:]
        if depth == len(parts) - 1:
            if not isinstance(child, ScalarNode):
                raise YamlEditError("%s holds a %s, not a scalar: refusing to replace it." % (
                    here, "list" if isinstance(child, SequenceNode) else "mapping"))
            if same_value(_construct(child), value):
                return text
            if child.start_mark.index == child.end_mark.index:
                # `key:` with no value: write the value after the colon.
                colon = text.find(":", key.end_mark.index)
                return text[: colon + 1] + " " + render_scalar(value) + text[colon + 1:]
            if child.style in ("|", ">"):
                raise YamlEditError("%s is a block scalar: refusing to rewrite it." % here)
            return text[: child.start_mark.index] + render_scalar(value, child.style) + text[child.end_mark.index:]
        if isinstance(child, MappingNode):
            node = child
            continue
        if isinstance(child, ScalarNode) and child.tag.endswith(":null"):
            # `logs_config:` (or `logs_config: ~`): give it a nested block.
            sub = parts[depth + 1:]
            if child.start_mark.index != child.end_mark.index and child.start_mark.line == key.start_mark.line:
                text = text[: child.start_mark.index].rstrip(" \t") + text[child.end_mark.index:]
            at = _after_line(text, key.end_mark.index)
            text, at = _ensure_newline_before(text, at, nl)
            return text[:at] + _block(sub, value, key.start_mark.column + unit, unit, nl) + text[at:]
        raise YamlEditError("%s is a %s, not a mapping: cannot set %s under it." % (
            here, "list" if isinstance(child, SequenceNode) else "scalar", ".".join(parts)))
    return text  # pragma: no cover


def _set_in(data, parts, value):
    for part in parts[:-1]:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    data[parts[-1]] = value


def _get(data, parts):
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


_MISSING = object()


def set_keys(text, settings):
    """Set dotted keys in YAML text. Returns (new_text, [changed keys]).

    ``settings`` maps a dotted key ("logs_config.force_use_http") or a tuple of names
    to a scalar value. Raises YamlEditError (and changes nothing) when the text is not
    a single valid YAML mapping, when a key would have to replace a list or mapping,
    or when the result would not read back exactly as the original plus the settings.
    """
    before = safe_load(text)
    items = [(split_path(key), value) for key, value in settings.items()]
    changed = []
    new = text
    for parts, value in items:
        edited = _set_one(new, parts, value)
        if edited != new:
            changed.append(".".join(parts))
            new = edited
    verify(text, new, before, items)
    return new, changed


def verify(old_text, new_text, before, items):
    """Raise unless new_text parses as ``before`` with exactly ``items`` applied."""
    expected = plain_copy(before)
    for parts, value in items:
        _set_in(expected, parts, value)
    try:
        after = safe_load(new_text)
    except YamlEditError as exc:
        raise YamlEditError("Internal error: the edited text would not be valid YAML (%s); file left untouched." % exc)
    if not same_value(after, expected):
        raise YamlEditError("Internal error: the edited text does not read back as expected; file left untouched.")
    for parts, value in items:
        if not same_value(_get(after, parts), value):  # pragma: no cover - covered by the check above
            raise YamlEditError("Internal error: %s does not read back as %r." % (".".join(parts), value))


def plain_copy(data):
    """A copy of nested dicts and lists as plain ones (scalars shared)."""
    if isinstance(data, dict):
        return dict((k, plain_copy(v)) for k, v in data.items())
    if isinstance(data, list):
        return [plain_copy(v) for v in data]
    return data


# ---------------------------------------------------------------------------------
# Compose files: services.<service>.environment, in mapping or list form.

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def set_compose_environment(text, service, env):
    """Set environment variables of one compose service. Returns (new_text, [names]).

    ``environment`` may be a mapping (``NAME: value``) or a list (``- NAME=value``);
    the form in the file is kept. Values are written as strings.
    """
    for name in env:
        if not _ENV_NAME.match(name):
            raise YamlEditError("Invalid environment variable name %r." % (name,))
    env = dict((name, _env_string(value)) for name, value in env.items())
    root = _load(text, "the compose file")
    services = _find(root, "services")[1] if root is not None else None
    svc = _find(services, service)[1] if isinstance(services, MappingNode) else None
    if not isinstance(svc, MappingNode):
        raise YamlEditError("The compose file has no service %r under services." % service)
    environment = _find(svc, "environment")[1]
    if not isinstance(environment, SequenceNode):
        settings = dict((("services", service, "environment", name), value) for name, value in env.items())
        return set_keys(text, settings)

    before = safe_load(text)
    changed = []
    new = text
    for name, value in env.items():
        edited = _set_list_env(new, service, name, value)
        if edited != new:
            changed.append(name)
            new = edited
    expected = plain_copy(before)
    items = expected["services"][service]["environment"]
    for name, value in env.items():
        entry = "%s=%s" % (name, value)
        hits = [i for i, item in enumerate(items) if isinstance(item, str) and item.split("=", 1)[0] == name]
        if hits:
            for i in hits:
                items[i] = entry
        else:
            items.append(entry)
    if not same_value(safe_load(new), expected):
        raise YamlEditError("Internal error: the edited compose file does not read back as expected; file left untouched.")
    return new, changed


def _env_string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _set_list_env(text, service, name, value):
    nl = newline_of(text)
    root = _load(text, "the compose file")
    seq = _find(_find(_find(root, "services")[1], service)[1], "environment")[1]
    entry = "%s=%s" % (name, value)
    found = False
    for item in seq.value:
        if isinstance(item, ScalarNode) and item.value.split("=", 1)[0] == name:
            found = True
            if item.value != entry:
                style = item.style if item.style in ('"', "'") else None
                return text[: item.start_mark.index] + render_scalar(entry, style) + text[item.end_mark.index:]
    if found:
        return text
    if seq.flow_style:
        close = seq.end_mark.index - 1
        sep = ", " if seq.value else ""
        return text[:close] + sep + render_scalar(entry) + text[close:]
    last = seq.value[-1]
    line = _line_start(text, last.start_mark.index)
    prefix = text[line: last.start_mark.index]
    if prefix.strip() != "-":
        prefix = " " * (prefix.find("-") if "-" in prefix else last.start_mark.column - 2) + "- "
    at = _insertion_point(text, seq)
    text, at = _ensure_newline_before(text, at, nl)
    return text[:at] + prefix + render_scalar(entry) + nl + text[at:]
