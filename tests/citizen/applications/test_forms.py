"""The form files: every shipped one is valid, broken ones stop the start, dates offered."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from klug.citizen.applications import calc, forms
from klug.citizen.applications.forms import FormError, read_form, read_forms
from klug.citizen.services import catalogue as services_catalogue


def test_every_online_service_has_a_valid_form() -> None:
    shipped = read_forms()
    online = {s.online_form for s in services_catalogue.catalogue() if s.online_form}
    assert online == {"bewohnerparkausweis", "sperrmuellabholung", "sondernutzungserlaubnis"}
    assert online <= set(shipped)
    for form in shipped.values():
        assert all(f.label.de and f.label.en for f in form.fields())
    kinds = {f.type for form in shipped.values() for f in form.fields()}
    assert kinds == {
        "text",
        "textarea",
        "number",
        "date",
        "choice",
        "file",
        "address",
        "point",
        "consent",
    }


def _write(tmp_path: Path, text: str, name: str = "probe") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


FIELD = "{name: %s, type: %s, label: {de: X, en: X}%s}"


def _form(*fields: str, key: str = "probe") -> str:
    return f"key: {key}\nsections:\n  - title: {{de: A}}\n    fields: [{', '.join(fields)}]\n"


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ([FIELD % ("a", "choice", "")], "a choice needs options"),
        ([FIELD % ("a", "file", "")], "accepted kinds"),
        ([FIELD % ("a", "consent", "")], "consent needs its text"),
        ([FIELD % ("a", "text", ", pattern: '(['")], "not a regular expression"),
        ([FIELD % ("a", "text", ""), FIELD % ("a", "text", "")], "appears twice"),
        ([FIELD % ("a", "text", ", show_if: {b: x}")], "earlier choice"),
        ([FIELD % ("a", "date", ", not_before: b")], "earlier date"),
        ([FIELD % ("a", "colour", "")], "type"),
        ([FIELD % ("a", "number", ", min: 5, max: 1")], "min is above max"),
        ([FIELD % ("a", "text", ", unknown_rule: 1")], "unknown_rule"),
    ],
)
def test_a_broken_form_file_names_the_file_and_the_problem(
    tmp_path: Path, fields: list[str], complaint: str
) -> None:
    with pytest.raises(FormError) as raised:
        read_form(_write(tmp_path, _form(*fields)))
    assert str(raised.value).startswith("probe.yaml: ")
    assert complaint in str(raised.value)


def test_the_file_name_must_be_the_key(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="must match the file name"):
        read_form(_write(tmp_path, _form(FIELD % ("a", "text", ""), key="other")))


def _shipped_without(tmp_path: Path, missing: str) -> Path:
    for path in forms.FORMS.glob("*.yaml"):
        if path.stem != missing:
            shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_a_service_without_its_form_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="sperrmuellabholung"):
        read_forms(_shipped_without(tmp_path, "sperrmuellabholung"))


def test_the_app_does_not_start_with_a_missing_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from klug.app import create_app
    from klug.core.config import Settings

    directory = _shipped_without(tmp_path, "bewohnerparkausweis")
    monkeypatch.setattr(forms, "all_forms", lambda: read_forms(directory))
    settings = Settings(env="dev", secret_key="x" * 40, var_dir=tmp_path / "var")
    with pytest.raises(FormError, match="bewohnerparkausweis"):
        create_app(settings)


def test_collection_dates_skip_weekends_and_rhineland_palatinate_holidays() -> None:
    # Thursday 17 December 2026: a week ahead is Christmas Eve; 25/26 Dec and 1 Jan are
    # public holidays in Rhineland-Palatinate, 26/27 Dec and 2/3 Jan a weekend.
    offered = calc.collection_dates(dt.date(2026, 12, 17))
    assert offered == [
        dt.date(2026, 12, 24),
        dt.date(2026, 12, 28),
        dt.date(2026, 12, 29),
        dt.date(2026, 12, 30),
        dt.date(2026, 12, 31),
        dt.date(2027, 1, 4),
    ]
    # Corpus Christi (Fronleichnam) is a holiday in RP, not everywhere in Germany.
    assert dt.date(2026, 6, 4) not in calc.collection_dates(dt.date(2026, 5, 28))
    assert all(d >= dt.date(2026, 6, 4) for d in calc.collection_dates(dt.date(2026, 5, 28)))
