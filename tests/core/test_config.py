"""Configuration: validated, documented, and refusing insecure production settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from klug.core.config import Settings, SettingsError, load_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
GOOD_PROD = {
    "env": "prod",
    "secret_key": "v8Jq2mX9pLr4Tz7Wc1Nb6Hd3Fg5Ks0Ya-Qe_Ui8Oo",
    "base_url": "https://klug.kaiserslautern.de",
    "smtp_url": "smtp://mail.kaiserslautern.de:587?starttls=true",
}


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `(KLUG_[A-Z_]+)` \|", DOCS.read_text(), re.MULTILINE))
    settings = {f"KLUG_{name.upper()}" for name in Settings.model_fields}
    assert settings - documented == set(), "undocumented settings"
    assert documented - settings == set(), "documented settings that do not exist"


def test_development_defaults_work_and_keep_a_generated_secret(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    first = settings.secret()
    assert len(first) >= 32
    assert Settings(var_dir=tmp_path).secret() == first, "the dev secret survives restarts"
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "only the owner can read it"
    assert settings.database_url == "sqlite:///var/klug.db"


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"secret_key": None}, "KLUG_SECRET_KEY"),
        ({"secret_key": "changeme"}, "KLUG_SECRET_KEY"),
        ({"secret_key": "a" * 64}, "KLUG_SECRET_KEY"),
        ({"base_url": "http://klug.kaiserslautern.de"}, "KLUG_BASE_URL"),
        ({"smtp_url": None}, "KLUG_SMTP_URL"),
    ],
)
def test_production_refuses_insecure_settings(override: dict[str, object], complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint) as raised:
        load_settings(**{**GOOD_PROD, **override})
    assert "changeme" not in str(raised.value)


def test_production_accepts_a_sound_configuration() -> None:
    settings = load_settings(**GOOD_PROD)
    assert settings.cookies_secure and settings.json_logs


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("base_url", "klug.de"),
        ("max_body_bytes", "12"),
        ("staff_idle_minutes", "120"),
        ("env", "staging"),
    ],
)
def test_malformed_values_are_named_in_the_error(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"KLUG_{name.upper()}", value)
    with pytest.raises(SettingsError, match=f"KLUG_{name.upper()}"):
        load_settings()
