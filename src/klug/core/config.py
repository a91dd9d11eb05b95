"""Validated platform configuration from ``KLUG_*`` environment variables.

Every field here must be documented in ``docs/settings.md``; a test enforces it.
Insecure defaults are accepted only in ``KLUG_ENV=dev``.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Placeholders people copy from examples; refusing them in prod is cheap insurance.
_WEAK_SECRETS = {"changeme", "secret", "change-me", "klug", "dev", "test", "password"}
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """Raised when the configuration is unsafe or inconsistent."""


class Settings(BaseSettings):
    """All settings of a klug process. See docs/settings.md for each one."""

    model_config = SettingsConfigDict(env_prefix="KLUG_", extra="ignore", frozen=True)

    env: Literal["dev", "prod"] = "dev"
    database_url: str = "sqlite:///var/klug.db"
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    var_dir: Path = Path("var")
    mqtt_url: str | None = None
    mqtt_client_id: str | None = None
    mqtt_shared: bool = False
    mqtt_notify: bool = True
    redis_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "klug Kaiserslautern <noreply@klug.kaiserslautern.de>"
    accessibility_contact: str = "barrierefreiheit@kaiserslautern.de"
    shared_data: Path = Path("../shared/data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool | None = None
    rate_limit_ip: str = "600/minute"
    rate_limit_account: str = "1200/minute"
    rate_limit_login: str = "20/minute"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    clamd_socket: str | None = None
    staff_idle_minutes: int = Field(default=30, ge=1, le=30)
    citizen_idle_minutes: int = Field(default=7 * 24 * 60, ge=5)
    forwarded_allow_ips: str = "127.0.0.1"
    db_pool_size: int = Field(default=20, ge=1)
    jobs: bool = True
    digest_hour: int = Field(default=7, ge=0, le=23)
    # Background map tiles (privacy): empty, no citizen's browser asks a third party.
    map_tile_url: str = ""
    map_attribution: str = ""

    @field_validator("base_url")
    @classmethod
    def _base_url_is_absolute(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL, e.g. https://klug.kaiserslautern.de")
        return value.rstrip("/")

    @field_validator("map_tile_url")
    @classmethod
    def _tile_url_is_a_template(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(
                "must be an absolute http(s) URL template, e.g. https://karten.kaiserslautern.de/{z}/{x}/{y}.png"
            )
        # One fixed origin: it is the only one the Content-Security-Policy lets images from.
        if "{" in parts.netloc or "@" in parts.netloc:
            raise ValueError("the host must be fixed: no {s} sub-domains, no user name or password")
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in value]
        if missing:
            raise ValueError(f"the template lacks {', '.join(missing)}")
        return value

    @field_validator("rate_limit_ip", "rate_limit_account", "rate_limit_login")
    @classmethod
    def _rate_limit_is_parseable(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError("must look like '600/minute' or '10/second'") from None
        return value

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.env != "prod":
            return self
        problems: list[str] = []
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(key) < MIN_SECRET_LENGTH or key.lower() in _WEAK_SECRETS or len(set(key)) < 10:
            problems.append(
                f"KLUG_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH}"
                " characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if not self.base_url.startswith("https://"):
            problems.append("KLUG_BASE_URL must be an https:// URL in production")
        if not self.smtp_url:
            problems.append("KLUG_SMTP_URL is required in production (account e-mails)")
        if self.map_tile_url and not self.map_tile_url.startswith("https://"):
            problems.append(
                "KLUG_MAP_TILE_URL must be an https:// URL in production"
                " (browsers block plain-http images on an https page)"
            )
        if problems:
            raise SettingsError("; ".join(problems))
        return self

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies whenever the site is served over HTTPS (always in prod)."""
        return self.env == "prod" or self.base_url.startswith("https://")

    @property
    def map_tile_origin(self) -> str | None:
        """The scheme and host of the tile server (for the CSP), or ``None`` without one."""
        if not self.map_tile_url:
            return None
        parts = urlsplit(self.map_tile_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.env == "prod"

    def secret(self) -> bytes:
        """The signing secret; in dev it is generated once and kept in ``var/``."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        if not self.is_dev:  # pragma: no cover - the validator already refused this
            raise SettingsError("KLUG_SECRET_KEY is required in production")
        path = self.var_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning validation errors into one message."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["loc"]:
                message = "KLUG_" + "_".join(str(p) for p in error["loc"]).upper() + ": " + message
            lines.append(message)
        raise SettingsError("; ".join(lines)) from None
