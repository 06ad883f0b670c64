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

import gc
import json
import re
from contextlib import contextmanager

try:
    import yaml
    from yaml.events import (AliasEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
                             SequenceEndEvent, SequenceStartEvent, StreamEndEvent)
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


if HAS_YAML:

    def _cached_resolver(base):
        class Loader(base):
            """Tags resolved once per distinct plain value: a large file repeats true, false, numbers."""

            _tags = {}

            def resolve(self, kind, value, implicit):
                if kind is not ScalarNode:
                    return super(Loader, self).resolve(kind, value, implicit)
                key = (value, implicit)
                tag = self._tags.get(key)
                if tag is None:
                    tag = super(Loader, self).resolve(kind, value, implicit)
                    if len(self._tags) < 100000:
                        self._tags[key] = tag
                return tag

        return Loader

    # libyaml composes a 5 MB file in about a second, pure Python in about twenty.
    _LOADER = _cached_resolver(yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader)
else:  # pragma: no cover
    _LOADER = None


@contextmanager
def _no_gc():
    """Composing allocates millions of objects that live on: the cyclic GC would rescan them again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Token names ('<block end>') and the scanner's own punctuation are not the file's text.
_KEPT_QUOTES = re.compile(r"^<[a-z ]+>$|^[,:\]\[{}?-]$")
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'" + r'|"(?:[^"\\\n]|\\.)*"')


def _where(mark):
    return "line %d, column %d" % (mark.line + 1, mark.column + 1)


def _clean_problem(problem):
    """PyYAML's words for a problem, without what it quotes from the file (a character, an alias, a tag)."""
    def keep(match):
        inner = match.group(0)[1:-1]
        if inner in ("\\t", "\t"):
            return "(a tab)"
        return match.group(0) if _KEPT_QUOTES.match(inner) else ""
    return re.sub(r"[ \t]+", " ", _QUOTED.sub(keep, problem or "")).strip() or "invalid syntax"


def describe_yaml_error(exc, text, what="the file"):
    """A parse error as line, column and kind of problem: never a snippet, which could hold the API key."""
    mark = getattr(exc, "problem_mark", None)
    problem = _clean_problem(getattr(exc, "problem", None))
    message = "%s is not valid YAML, left untouched: %s" % (_title(what), problem)
    if mark is not None:
        message += " at %s" % _where(mark)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    elsewhere = mark is None or (context_mark is not None and (context_mark.line, context_mark.column) != (mark.line, mark.column))
    if context and context_mark is not None and elsewhere:
        message += " (%s from %s)" % (_clean_problem(context), _where(context_mark))
    message += "."
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        message += " YAML does not allow a tab there: use spaces."
    return message


def _title(what):
    return what[0].upper() + what[1:]


def compose(text, what="the file", unique=True):
    """The root node of the text's one document (None when empty), duplicate keys refused when ``unique``."""
    loader = _LOADER(text)
    try:
        with _no_gc():
            docs = []
            while loader.check_node():
                docs.append(loader.get_node())
    except yaml.YAMLError as exc:
        raise YamlEditError(describe_yaml_error(exc, text, what))
    finally:
        loader.dispose()
    docs = [doc for doc in docs if doc is not None] or [None]
    if len(docs) > 1:
        raise YamlEditError("%s holds %d YAML documents; expected one." % (_title(what), len(docs)))
    root = docs[0]
    if root is not None and unique:
        _refuse_duplicates(root, what)
    return root


def _load(text, what="the file"):
    root = compose(text, what)
    if root is not None and not isinstance(root, MappingNode):
        if isinstance(root, ScalarNode) and root.value in _NULLS and root.tag.endswith(":null"):
            return None
        raise YamlEditError("%s is not a YAML mapping at its top level." % _title(what))
    return root


def _refuse_duplicates(root, what):
    """The Agent's YAML parser refuses a key given twice in one mapping: so do we (by line, never by name)."""
    seen_nodes = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if node.__class__ is MappingNode:
            keys = [key.value for key, _value in node.value if key.__class__ is ScalarNode]
            if len(set(keys)) != len(keys):
                _duplicate(node, what)
            stack.extend(value for _key, value in node.value if value.__class__ is not ScalarNode)
            stack.extend(key for key, _value in node.value if key.__class__ is not ScalarNode)
        elif node.__class__ is SequenceNode:
            stack.extend(item for item in node.value if item.__class__ is not ScalarNode)


def _duplicate(node, what):
    first = {}
    for key, _value in node.value:
        if key.__class__ is ScalarNode:
            if key.value in first:
                raise YamlEditError(
                    "%s has a duplicate key at %s (the same key is at %s), left untouched: keep one of them."
                    % (_title(what), _where(key.start_mark), _where(first[key.value])))
            first[key.value] = key.start_mark


def safe_load(text, what="the file"):
    return construct(_load(text, what), text, what)


def construct(node, text="", what="the file"):
    """The Python data of a node ({} for an empty file); a value PyYAML cannot build is reported by line."""
    if node is None:
        return {}
    loader = yaml.SafeLoader("")
    try:
        with _no_gc():
            return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise YamlEditError(describe_yaml_error(exc, text, what))
    except (ValueError, TypeError, OverflowError):
        # A malformed timestamp, base64 or number: PyYAML's message would quote it.
        raise YamlEditError("%s has a value that cannot be read at %s, left untouched." % (_title(what), _where(node.start_mark)))
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


_ANCHOR = re.compile(r"(?:![^\s,\[\]{}]*[ \t]+)?&([^\s,\[\]{}]+)")
_ALIAS_NAME = re.compile(r"[ \t]*:?[ \t]*\*([^\s,\[\]{}]+)")
_NAME_SHOWN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _shown(name, sigil):
    return " (%s%s)" % (sigil, name) if name and _NAME_SHOWN.match(name) else ""


def _refuse_shared(text, here, key, child):
    """An edit of a node shared through an alias would change every key that uses it: say so, and what to do."""
    if child.start_mark.index < key.end_mark.index:
        # The value was defined earlier in the file: this key holds an alias (`key: *name`).
        match = _ALIAS_NAME.match(text, key.end_mark.index)
        raise YamlEditError(
            "%s is an alias%s of the value at %s, so an edit there would change every key that uses it. "
            "Replace the alias with the keys it stands for (or give %s its own mapping), then run again."
            % (here, _shown(match and match.group(1), "*"), _where(child.start_mark), here))
    match = _ANCHOR.match(text, child.start_mark.index)
    if match and re.search(r"\*%s(?![^\s,\[\]{}])" % re.escape(match.group(1)), text):
        raise YamlEditError(
            "%s is anchored%s and used elsewhere through an alias, so an edit would change those keys too. "
            "Give the keys that use it their own copy, then run again." % (here, _shown(match.group(1), "&")))


def _set_one(text, parts, value, root):
    """Return text with ``parts`` set to ``value`` (one splice), or the same text; ``root`` is text's parsed root."""
    nl = newline_of(text)
    if root is None:
        # Empty file or comments only: a new block at the end.
        text, at = _ensure_newline_before(text, len(text), nl)
        return text[:at] + _block(parts, value, 0, _indent_unit(text, root), nl) + text[at:]

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
            return text[:at] + _block(rest, value, indent, _indent_unit(text, root), nl) + text[at:]
        _refuse_shared(text, here, key, child)
        if depth == len(parts) - 1:
            if not isinstance(child, ScalarNode):
                raise YamlEditError("%s holds a %s, not a scalar: refusing to replace it." % (
                    here, "list" if isinstance(child, SequenceNode) else "mapping"))
            if same_value(construct(child, text), value):
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
            unit = _indent_unit(text, root)
            if child.start_mark.index != child.end_mark.index and child.start_mark.line == key.start_mark.line:
                text = text[: child.start_mark.index].rstrip(" \t") + text[child.end_mark.index:]
            at = _after_line(text, key.end_mark.index)
            text, at = _ensure_newline_before(text, at, nl)
            return text[:at] + _block(sub, value, key.start_mark.column + unit, unit, nl) + text[at:]
        raise YamlEditError("%s is a %s, not a mapping: cannot set %s under it." % (
            here, "list" if isinstance(child, SequenceNode) else "scalar", ".".join(parts)))
    return text  # pragma: no cover


_SKIP = ()


def _already_set(text, items):
    """True when every item already holds its value, read from one pass over the parser's events.

    The common case (a rerun) costs one libyaml parse and no node tree: mappings off the
    wanted paths are only checked for duplicate keys. Anything unusual on a wanted path (a
    missing key, an alias, a collection, a second document) returns False, and the full
    editor then decides (and explains).
    """
    wanted = dict(items)
    prefixes = set(parts[:depth] for parts in wanted for depth in range(1, len(parts)))
    found = {}
    stack = []  # [is_mapping, path of this mapping or None, keys seen, path of the pending value or None]
    documents = 0
    loader = _LOADER(text)
    get = loader.get_event
    try:
        with _no_gc():
            while True:
                event = get()
                kind = event.__class__
                if kind is ScalarEvent:
                    if not stack:
                        return False
                    top = stack[-1]
                    if top[0]:
                        if top[3] is None:
                            keys = top[2]
                            if event.value in keys:
                                return False
                            keys.add(event.value)
                            top[3] = _SKIP if top[1] is None else top[1] + (event.value,)
                        else:
                            if top[3] in wanted:
                                found[top[3]] = event
                            top[3] = None
                elif kind is MappingStartEvent or kind is SequenceStartEvent:
                    path = None
                    if stack:
                        top = stack[-1]
                        if top[0]:
                            if top[3] is None or top[3] in wanted:
                                return False  # a complex key, or a collection where a scalar is wanted
                            if top[3] in prefixes:
                                path = top[3]
                            top[3] = None
                    elif kind is MappingStartEvent:
                        path = ()
                    else:
                        return False
                    stack.append([kind is MappingStartEvent, path, set() if kind is MappingStartEvent else None, None])
                elif kind is MappingEndEvent or kind is SequenceEndEvent:
                    stack.pop()
                elif kind is AliasEvent:
                    if not stack:
                        return False
                    top = stack[-1]
                    if top[0]:
                        if top[3] is None or top[3] in wanted or top[3] in prefixes:
                            return False
                        top[3] = None
                elif kind is DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        return False
                elif kind is StreamEndEvent:
                    break
    except yaml.YAMLError:
        return False
    finally:
        loader.dispose()
    for parts, value in wanted.items():
        event = found.get(parts)
        if event is None:
            return False
        tag = event.tag
        if tag is None or tag == "!":
            tag = loader.resolve(ScalarNode, event.value, event.implicit)
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            if not same_value(construct(node, text), value):
                return False
        except YamlEditError:
            return False
    return True


def set_keys(text, settings):
    """Set dotted keys in YAML text. Returns (new_text, [changed keys]).

    ``settings`` maps a dotted key ("logs_config.force_use_http") or a tuple of names
    to a scalar value. Raises YamlEditError (and changes nothing) when the text is not
    a single valid YAML mapping, when a key would have to replace a list or mapping,
    or when the result would not read back exactly as the original plus the settings.
    With nothing to change the text is parsed once and only the wanted values are read.
    """
    items = [(split_path(key), value) for key, value in settings.items()]
    with _no_gc():
        if _already_set(text, items):
            return text, []
        root = _load(text)
        changed = []
        new, new_root = text, root
        for parts, value in items:
            if new_root is None:
                new_root = _reload(new)
            edited = _set_one(new, parts, value, new_root)
            if edited != new:
                changed.append(".".join(parts))
                new, new_root = edited, None
        if changed:
            verify(root, new, items)
    return new, changed


def _reload(text):
    try:
        return _load(text)
    except YamlEditError as exc:
        raise YamlEditError("Internal error: an edit would not leave valid YAML (%s); file left untouched." % exc)


def verify(old_root, new_text, items):
    """Raise unless new_text reads as the text parsed into ``old_root`` with exactly ``items`` applied.

    The two node trees are compared: off the wanted paths every node must be the same
    (class, tag, value, order); on them, only the wanted keys may be added, and the wanted
    values must read back as given. No Python data is built, so a large file stays fast.
    """
    new_root = _reload(new_text)
    wanted = dict(items)
    prefixes = set(parts[:depth] for parts in wanted for depth in range(0, len(parts)))
    stack = [(old_root, new_root, ())]
    seen = set()
    while stack:
        old, new, path = stack.pop()
        if path is None:
            if (id(old), id(new)) in seen:
                continue
            seen.add((id(old), id(new)))
            if old.__class__ is not new.__class__ or old.tag != new.tag or len(old.value) != len(new.value):
                _verify_failed()
            if old.__class__ is ScalarNode:
                if old.value != new.value:
                    _verify_failed()
            elif old.__class__ is SequenceNode:
                stack.extend((a, b, None) for a, b in zip(old.value, new.value))
            else:
                for (old_key, old_value), (new_key, new_value) in zip(old.value, new.value):
                    stack.append((old_key, new_key, None))
                    stack.append((old_value, new_value, None))
        elif path in wanted:
            if new.__class__ is not ScalarNode or not same_value(construct(new, new_text), wanted[path]):
                _verify_failed("%s does not read back as %r" % (".".join(path), wanted[path]))
        else:
            # A mapping on the way to a wanted key: the old entries in order, plus wanted ones.
            if new.__class__ is not MappingNode:
                _verify_failed()
            old_entries = old.value if old.__class__ is MappingNode else []
            if old is not None and old.__class__ is not MappingNode and not old.tag.endswith(":null"):
                _verify_failed()
            old_names = set(key.value for key, _value in old_entries if key.__class__ is ScalarNode)
            index = 0
            for new_key, new_value in new.value:
                below = path + (new_key.value,) if new_key.__class__ is ScalarNode else None
                on_path = below in wanted or below in prefixes
                if index < len(old_entries) and _same_key(old_entries[index][0], new_key):
                    old_key, old_value = old_entries[index]
                    index += 1
                    if on_path:
                        stack.append((old_value, new_value, below))
                    else:
                        stack.append((old_key, new_key, None))
                        stack.append((old_value, new_value, None))
                elif on_path and new_key.value not in old_names:
                    stack.append((None, new_value, below))
                else:
                    _verify_failed()
            if index != len(old_entries):
                _verify_failed()


def _same_key(old, new):
    if old.__class__ is ScalarNode:
        return new.__class__ is ScalarNode and old.value == new.value and old.tag == new.tag
    return old.__class__ is new.__class__


def _verify_failed(what="the edited text does not read back as expected"):
    raise YamlEditError("Internal error: %s; file left untouched." % what)


def plain_copy(data):
    """A copy of nested dicts and lists as plain ones (scalars shared)."""
    if isinstance(data, dict):
        return dict((k, plain_copy(v)) for k, v in data.items())
    if isinstance(data, list):
        return [plain_copy(v) for v in data]
    return data


# ---------------------------------------------------------------------------------
# Secrets in a diff: every value that could hold a key, token or password is masked.

MASK = "********"
# Key names whose values are secret; additional_endpoints maps URLs to API keys, `key` alone is a key too.
_SECRET_NAME = re.compile(
    r"api_?key|app_?key|application_?key|access_?key|private_?key|secret|token|passw(?:or)?d|passphrase|pwd$"
    r"|credential|authorization|cookie|additional_endpoints|(?:^|[_.-])key$",
    re.I,
)
# user:password@ in a URL (up to the last @ of the token, as a password may hold a raw @).
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^\s'\"]*)@")
# NAME=value (a compose environment entry, a command line option).
_ENV_ENTRY = re.compile(r"""^(\s*["']?-*([A-Za-z_][A-Za-z0-9_.-]*)=)(.*?)(["']?\s*)$""", re.S)
# A commented `name: value` (or `name=value`); the value runs to the end of the line.
_COMMENTED_KEY = re.compile(r"""(["']?([A-Za-z0-9_.-]+)["']?[ \t]*(?::(?=[ \t]|$)|=))([ \t]*)(.*)$""")
# Datadog API (32) and application (40) keys are hex strings: never shown, even in prose.
_HEX_KEY = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")
_FULL, _PROXY, _PLAIN = 3, 2, 1


def is_secret_name(name):
    """Whether a key (or environment variable) of this name holds a secret."""
    return bool(_SECRET_NAME.search(str(name).rsplit(".", maxsplit=1)[-1]))


def _mask_span(raw, kind):
    if kind == _FULL:
        return re.sub(r"[^\r\n]+", MASK, raw)
    if kind == _PROXY:
        # A proxy URL may come without a scheme: everything before its last @ is user information.
        match = re.match(r"(\s*[\"']?(?:[A-Za-z][A-Za-z0-9+.-]*://)?)(.*)@", raw, re.S)
        if match:
            raw = match.group(1) + MASK + raw[match.end(2):]
    raw = _HEX_KEY.sub(MASK, _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", raw))
    entry = _ENV_ENTRY.match(raw)
    if entry and _SECRET_NAME.search(entry.group(2)) and entry.group(3):
        raw = entry.group(1) + MASK + entry.group(4)
    elif entry and "proxy" in entry.group(2).lower() and "@" in entry.group(3):
        raw = entry.group(1) + MASK + entry.group(3)[entry.group(3).rindex("@"):] + entry.group(4)
    return raw


def _secret_spans(root):
    """{start: (end, kind)} of the scalars to mask, from the parsed document."""
    spans = {}

    def add(node, kind):
        if node.end_mark.index <= node.start_mark.index:
            return
        if kind == _PLAIN and not ("@" in node.value or "=" in node.value or len(node.value) >= 32):
            return
        start = node.start_mark.index
        if spans.get(start, (0, 0))[1] < kind:
            spans[start] = (node.end_mark.index, kind)

    seen = set()
    stack = [(root, _PLAIN, False)]
    while stack:
        node, kind, in_proxy = stack.pop()
        if (id(node), kind, in_proxy) in seen:
            continue
        seen.add((id(node), kind, in_proxy))
        if isinstance(node, ScalarNode):
            add(node, kind)
        elif isinstance(node, SequenceNode):
            stack.extend((item, kind, in_proxy) for item in node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, ScalarNode) else ""
                if isinstance(key, ScalarNode):
                    add(key, _PLAIN)
                else:
                    stack.append((key, kind, False))
                if kind == _FULL or _SECRET_NAME.search(name):
                    child = _FULL
                elif in_proxy or "proxy" in name.lower():
                    child = _PROXY
                else:
                    child = _PLAIN
                stack.append((value, child, name.lower() == "proxy"))
    return spans


def _mask_nodes(text, root):
    out, at = [], 0
    spans = _secret_spans(root)
    for start in sorted(spans):
        end, kind = spans[start]
        if start < at:
            continue
        out.append(text[at:start])
        out.append(_mask_span(text[start:end], kind))
        at = end
    out.append(text[at:])
    return "".join(out)


def _mask_free_text(part):
    """Secrets in text outside any value (a comment, or a file that does not parse)."""
    part = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", part)
    part = _HEX_KEY.sub(MASK, part)
    match = _COMMENTED_KEY.search(part)
    while match:
        if _SECRET_NAME.search(match.group(2)) and match.group(4).strip():
            return part[: match.start(4)] + MASK
        match = _COMMENTED_KEY.search(part, match.end(1))
    return part


def _mask_lines(text, whole_lines):
    """Mask secrets line by line: in comments only, or (for text that does not parse) everywhere.

    A secret key left without a value (`# additional_endpoints:`) masks the values of the
    more indented lines that follow it, as a commented-out block would hold them.
    """
    out = []
    block = None  # indentation of the secret key whose nested lines are masked
    for line in text.splitlines(True):
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        if whole_lines:
            cut = 0
        else:
            hit = re.search(r"(?:^|[ \t])#", body)
            if not hit:
                block = None
                out.append(line)
                continue
            cut = hit.end()
            while cut < len(body) and body[cut] == "#":
                cut += 1
        head, part = body[:cut], body[cut:]
        indent = len(part) - len(part.lstrip(" \t-"))
        if block is not None and part.strip() and indent > block:
            item = re.match(r"""^([ \t-]*(?:["']?[^"'\s:]+["']?[ \t]*:[ \t]+)?)(\S.*)$""", part)
            if item and not item.group(2).rstrip().endswith(":"):
                part = item.group(1) + MASK
            out.append(head + _mask_free_text(part) + ending)
            continue
        block = None
        opener = re.match(r"""^[ \t-]*["']?([A-Za-z0-9_.-]+)["']?[ \t]*:[ \t]*$""", part)
        if opener and _SECRET_NAME.search(opener.group(1)):
            block = indent
        out.append(head + _mask_free_text(part) + ending)
    return "".join(out)


def mask_secrets(text):
    """The text with every secret value replaced by ********, for a diff.

    Values are found by parsing (any style: block, flow, JSON, quoted, multi-line): those of
    secret-like keys (api_key, app_key, tokens, passwords, additional_endpoints...), user
    information in URLs, proxy credentials, NAME=value entries of secret-like names. Comments
    are scanned for commented keys, URLs and hex keys. Text that does not parse is masked
    line by line, everywhere.
    """
    with _no_gc():
        try:
            root = compose(text, unique=False)
        except YamlEditError:
            return _mask_lines(text, whole_lines=True)
        if root is not None:
            text = _mask_nodes(text, root)
        return _mask_lines(text, whole_lines=False)


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
