"""The categories file: what can be reported, checked strictly; answers to its questions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from klug.citizen.reports.categories import (
    CATEGORIES_FILE,
    catalogue,
    check_answers,
    read_catalogue,
)


def test_the_city_s_categories_are_valid_and_complete() -> None:
    known = read_catalogue(CATEGORIES_FILE)
    codes = {c.code for c in known.categories}
    assert {
        "pothole",
        "street_light",
        "illegal_dumping",
        "graffiti",
        "damaged_sign",
        "playground",
        "other",
    } <= codes
    pothole = known.get("pothole")
    assert pothole is not None
    assert (pothole.name.de, pothole.name.en) == ("Schlagloch", "Pothole")
    assert pothole.duplicate_radius_m == 50
    used = {q.datatype for c in known.categories for q in c.questions}
    assert used == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    assert known.area.contains(49.4443, 7.7690)
    assert not known.area.contains(50.11, 8.68)  # Frankfurt


def _write(tmp_path: Path, change: dict[str, object]) -> Path:
    raw = yaml.safe_load(CATEGORIES_FILE.read_text(encoding="utf-8"))
    first = raw["categories"][0]
    for key, value in change.items():
        if key == "duplicate":
            raw["categories"].append(dict(first))
        else:
            first[key] = value
    path = tmp_path / "categories.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change",
    [
        {"duplicate": True},
        {"group": "nowhere"},
        {"target_days": 0},
        {"duplicate_radius_m": -5},
        {"colour": "red"},
        {"code": "Pot Hole"},
        {
            "questions": [
                {
                    "code": "size",
                    "datatype": "singlevaluelist",
                    "description": {"de": "a", "en": "b"},
                }
            ]
        },
        {
            "questions": [
                {
                    "code": "size",
                    "datatype": "number",
                    "description": {"de": "a", "en": "b"},
                    "values": [{"key": "x", "name": {"de": "x", "en": "x"}}],
                }
            ]
        },
        {"name": {"de": "Schlagloch"}},
    ],
    ids=[
        "duplicate-code",
        "unknown-group",
        "zero-target",
        "negative-radius",
        "unknown-key",
        "bad-code",
        "list-without-values",
        "number-with-values",
        "missing-english",
    ],
)
def test_a_broken_categories_file_is_refused(tmp_path: Path, change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        read_catalogue(_write(tmp_path, change))


def test_answers_are_checked_against_the_questions() -> None:
    dumping = catalogue().get("illegal_dumping")
    assert dumping is not None
    answers, errors = check_answers(
        dumping, {"waste_types": ["bulky", "tyres", "bulky"], "amount": ["van"]}
    )
    assert errors == {}
    assert answers == {"waste_types": ["bulky", "tyres"], "amount": "van"}

    answers, errors = check_answers(dumping, {"waste_types": ["gold"], "colour": ["red"]})
    assert set(errors) == {"waste_types", "colour"}
    assert answers == {}

    _answers, errors = check_answers(dumping, {})
    assert set(errors) == {"waste_types"}  # required


def test_numbers_dates_and_single_lines() -> None:
    pothole = catalogue().get("pothole")
    playground = catalogue().get("playground")
    light = catalogue().get("street_light")
    assert pothole and playground and light
    answers, errors = check_answers(pothole, {"size": ["small"], "depth_cm": ["7,5"]})
    assert errors == {} and answers["depth_cm"] == 7.5
    _answers, errors = check_answers(pothole, {"size": ["small"], "depth_cm": ["tief"]})
    assert set(errors) == {"depth_cm"}
    _answers, errors = check_answers(pothole, {"size": ["small", "large"]})
    assert set(errors) == {"size"}

    # A browser's datetime-local value is the city's local time (CET in January).
    answers, errors = check_answers(
        playground, {"issue": ["dirty"], "noticed_at": ["2026-01-15T08:30"]}
    )
    assert errors == {} and answers["noticed_at"] == "2026-01-15T07:30:00+00:00"
    _answers, errors = check_answers(playground, {"issue": ["dirty"], "noticed_at": ["gestern"]})
    assert set(errors) == {"noticed_at"}

    _answers, errors = check_answers(light, {"fault": ["off"], "pole_number": ["12\n13"]})
    assert set(errors) == {"pole_number"}
