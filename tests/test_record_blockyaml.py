"""BlockReader: the recorder's block YAML read line by line gives PyYAML's data, or is given up to libyaml."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mockmx.record.blockyaml import BlockReader, NotPlain
from mockmx.record.writer import dump_yaml


def read(text: str) -> Any:
    return BlockReader().read([line for line in text.split("\n") if line])


@pytest.mark.parametrize(
    "data",
    [
        {"method": "GET", "path": "/_matrix/client/v3/sync", "query": {"since": "s1_2", "timeout": "30000"}},
        {"ints": [0, -3, 10**20], "floats": [1.5, -0.25, 1e-07], "flags": [True, False], "nothing": None},
        {"look like others": ["true", "null", "~", "1.5", "0x1F", "-3", "1:30", "2001-12-14", "", "-", "- a", "#x"]},
        {"quotes": "it's", "colon": "a: b", "comment": "a #b", "hash": "x#y", "start": ":x", "unicode": "é ✓"},
        {"@bob:localhost": {"m.read": {"$event": {"ts": 1}}}, "!room:x": [], "'q'": {}, 5: "int key"},
        [[1, 2], [3], [], [{}], [None, {"a": [{"b": [1]}]}]],
        {"sequence under a key": [{"a": 1, "b": [{"c": 2}, {"d": [3, 4]}]}, "text"]},
    ],
    ids=["request", "scalars", "strings-that-look-like-others", "quoting", "keys", "nested-lists", "compact"],
)
def test_what_the_recorder_writes_reads_as_pyyaml_reads_it(data: Any) -> None:
    text = dump_yaml([data])
    assert read(text) == yaml.safe_load(text) == [data]


@pytest.mark.parametrize(
    "text",
    [
        "a: |\n  two\n  lines\n",
        "a: 'two\n  lines'\n",
        "a: plain\n  continued\n",
        'a: "double"\n',
        "a: &anchor 1\nb: *anchor\n",
        "a: !!str 1\n",
        "a: [1, 2]\n",
        "a: 2001-12-14\n",
        "a: b # comment\n",
        "? complex\n: key\n",
        "a:\n  b: 1\n c: 2\n",
        "- a\n b\n",
        "a:\tb\n",
        "<<: {}\n",
    ],
)
def test_anything_else_is_given_up_to_libyaml(text: str) -> None:
    with pytest.raises(NotPlain):
        read(text)


def test_each_empty_collection_is_its_own() -> None:
    first, second = read("- {}\n- {}\n")
    assert first == second == {} and first is not second
