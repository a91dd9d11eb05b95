"""JSON in and out: fast, and no value changes on the way."""

from __future__ import annotations

import json

import pytest

from klug.core import jsontext


@pytest.mark.parametrize(
    "document",
    [
        {"zähler": 123456789012345678901234567890},  # beyond 64 bits
        [18446744073709551615, -9223372036854775808],  # the edges of 64 bits
        {"nested": {"list": [1, 2.5, "drei", None, True]}},
        "Kaiserslautern – Ü",
    ],
)
def test_documents_round_trip_exactly(document: object) -> None:
    text = jsontext.dumps(document)
    assert jsontext.loads(text) == document
    assert json.loads(text) == document


def test_non_string_keys_are_written_like_the_standard_library() -> None:
    assert jsontext.loads(jsontext.dumps({1: "eins"})) == {"1": "eins"}


def test_numbers_json_has_no_literal_for_become_null() -> None:
    assert jsontext.loads(jsontext.dumps([float("nan"), float("inf")])) == [None, None]


def test_malformed_json_raises_value_error() -> None:
    for bad in (b"{", b"[1,]", b"\xff"):
        with pytest.raises(ValueError):  # noqa: PT011 – the contract is ValueError
            jsontext.loads(bad)
