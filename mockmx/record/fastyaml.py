"""One YAML document to plain data, equal to what PyYAML's safe loader gives, in a third of its time.

libyaml composes the nodes; strings, numbers, booleans, nulls, mappings with scalar keys and lists are then built
straight from them, without PyYAML's per-node dispatch. A document holding anything else (an alias, a merge key,
a timestamp, an explicit tag) goes through PyYAML's own constructor instead, so the result is always the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mockmx.collection import gc_paused

__all__ = ["Loader", "load_yaml"]

Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def load_yaml(text: str) -> Any:
    """The data in `text`, as `yaml.load(text, Loader)` returns it; raises the same `yaml.YAMLError`s."""
    loader = Loader(text)
    try:
        with gc_paused():
            return _construct(loader)  # the node tree is gone when this returns, before the collector is back
    finally:
        loader.dispose()


class _NotPlain(Exception):
    """A node only PyYAML's constructor builds right."""


def _construct(loader: yaml.SafeLoader) -> Any:
    root = loader.get_single_node()
    if root is None:
        return None
    try:
        return _plain_builder(loader)(root)
    except (_NotPlain, RecursionError):  # PyYAML's constructor does not recurse, so it builds any depth
        return loader.construct_document(root)


def _plain_builder(loader: yaml.SafeLoader) -> Callable[[Node], Any]:
    scalars: dict[str, Callable[[ScalarNode], Any]] = {
        "tag:yaml.org,2002:null": loader.construct_yaml_null,
        "tag:yaml.org,2002:bool": loader.construct_yaml_bool,
        "tag:yaml.org,2002:int": loader.construct_yaml_int,
        "tag:yaml.org,2002:float": loader.construct_yaml_float,
    }
    # Collections built so far: meeting one again is an alias, which PyYAML builds into the very same object.
    built: set[int] = set()

    def build(node: Node) -> Any:
        kind, tag = type(node), node.tag
        if isinstance(node, ScalarNode):
            if tag == _STR:
                return node.value
            scalar = scalars.get(tag)
            if scalar is None:
                raise _NotPlain
            try:
                return scalar(node)
            except Exception as exc:  # `!!int x`: PyYAML's constructor raises what it raises, in its own order
                raise _NotPlain from exc
        if id(node) in built:
            raise _NotPlain
        built.add(id(node))
        if kind is MappingNode and tag == _MAP:
            mapping = {}
            for key, value in node.value:
                if type(key) is not ScalarNode:  # PyYAML refuses it: unhashable
                    raise _NotPlain
                mapping[build(key)] = build(value)  # a merge key `<<` is not plain: its tag is not in `scalars`
            return mapping
        if kind is SequenceNode and tag == _SEQ:
            return [build(item) for item in node.value]
        raise _NotPlain

    return build
