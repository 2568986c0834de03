"""Byline's configuration: one pydantic-settings class, read from BYLINE_* variables and `.env`."""

from __future__ import annotations

import logging
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_SECRET = "dev-only-secret-do-not-use-in-production"  # noqa: S105
MB = 1024 * 1024

CommaList = Annotated[list[str], NoDecode]

log = logging.getLogger("byline.settings")

# Settings renamed for what they govern (mail and webhook deliveries alike): the old name is still read, with
# a warning, for one release; the new name wins when both are set.
RENAMED = {
    "mail_worker_inprocess": "worker_inprocess",
    "mail_batch_size": "delivery_batch_size",
    "mail_poll_seconds": "delivery_poll_seconds",
    "mail_lock_seconds": "delivery_lock_seconds",
    "mail_max_attempts": "delivery_max_attempts",
    "mail_retry_base_seconds": "delivery_retry_base_seconds",
    "mail_retry_max_seconds": "delivery_retry_max_seconds",
}
_warned: set[str] = set()


class _FormerNames(PydanticBaseSettingsSource):
    """The RENAMED settings set under their old names, in the environment or `.env`, below the new names."""

    def __init__(
        self, settings_cls: type[BaseSettings], sources: tuple[PydanticBaseSettingsSource, ...]
    ) -> None:
        super().__init__(settings_cls)
        self.variables = [
            {name.lower(): value for name, value in source.env_vars.items()}
            for source in sources
            if isinstance(source, EnvSettingsSource)
        ]

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for old, new in RENAMED.items():
            values = [
                variables[f"byline_{old}"] for variables in self.variables if f"byline_{old}" in variables
            ]
            if not values:
                continue
            found[new] = values[0]
            old_name, new_name = f"BYLINE_{old.upper()}", f"BYLINE_{new.upper()}"
            if any(f"byline_{new}" in variables for variables in self.variables):
                message = (
                    f"{old_name} is ignored: it is now {new_name}, which is set too; remove the old name"
                )
            else:
                message = (
                    f"{old_name} is now {new_name}: rename it (the old name is read until the next release)"
                )
            if message not in _warned:  # once per process, however often the settings are read
                _warned.add(message)
                log.warning(message)
        return found


@cache
def _time_zones() -> frozenset[str]:
    """The IANA time zone names: read from the system's zone folders once, not for every Settings."""
    return frozenset(available_timezones())


class Settings(BaseSettings):
    """Every setting Byline reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_prefix="BYLINE_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    # Empty: the address `byline serve` listens on (http://<host>:<port>); required in production.
    base_url: str = ""
    allowed_hosts: CommaList = Field(default_factory=lambda: ["127.0.0.1", "localhost"])
    trusted_proxies: CommaList = Field(default_factory=list)

    var_dir: Path = Path("var")
    database_url: str = ""
    upload_dir: Path | None = None
    sqlite_busy_timeout_ms: int = 30_000
    db_pool_size: int = 10

    publication_name: str = "The Meridian"
    # The language of a visitor who chose none and whose browser asks for none Byline speaks ("ru" or "en").
    default_locale: Literal["ru", "en"] = "ru"
    # The IANA time zone pages show times in (staff may choose their own); stored times stay UTC.
    time_zone: str = "UTC"
    mail_from: str = "The Meridian contributor desk <desk@meridian.example>"

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = 30.0
    # Persistent SMTP connections per sender; a refused login or TLS failure pauses mail this long.
    mail_connections: int = Field(default=4, ge=1, le=64)
    mail_pause_seconds: float = 300.0
    mail_catcher: bool = False
    mail_catcher_port: int = 1025

    # The web process runs the senders and the scheduled jobs too (one machine); false with `byline worker`.
    worker_inprocess: bool = True
    # How mail and webhook deliveries are claimed, retried and given up on (app/core/outbound).
    delivery_batch_size: int = Field(default=100, ge=1, le=1000)
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    delivery_lock_seconds: int = Field(default=300, ge=1)
    delivery_max_attempts: int = Field(default=8, ge=1)
    delivery_retry_base_seconds: float = Field(default=60.0, ge=0)
    delivery_retry_max_seconds: float = Field(default=3600.0, ge=0)

    max_samples: int = 5
    max_file_bytes: int = 20 * MB
    max_application_bytes: int = 50 * MB
    archive_max_entries: int = 1000
    archive_max_uncompressed_bytes: int = 100 * MB
    # Each upload is read (type, word count, text) in a child process with these limits; past them the file
    # is kept without a count and text (or refused when it could not even be checked).
    upload_inspect_cpu_seconds: int = Field(default=5, ge=1, le=300)
    upload_inspect_memory_mb: int = Field(default=512, ge=128)
    upload_inspect_timeout_seconds: float = Field(default=20.0, gt=0)
    upload_inspect_max_pdf_operations: int = Field(default=300_000, ge=1)
    # A PDF sent with the form is counted after the answer, by a reader beside the pages (web process or
    # `byline worker`) that looks for waiting files this often.
    upload_read_poll_seconds: float = Field(default=1.0, gt=0)

    session_idle_minutes: int = 60
    session_max_hours: int = 12
    # Failures allowed for an account from one address; looser limits per account and per address.
    login_max_failures: int = 5
    login_max_failures_per_account: int = 20
    login_max_failures_per_address: int = 50
    login_window_seconds: int = 15 * 60
    password_time_cost: int = 2
    password_memory_kib: int = 19 * 1024
    invitation_valid_days: int = 7
    password_reset_valid_minutes: int = 30

    task_due_days: int = 5
    digest_hour: int = Field(default=7, ge=0, le=23)
    task_remind_before_hours: int = 24
    task_escalate_after_hours: int = 48

    spam_min_form_seconds: float = 3.0
    spam_max_form_age_seconds: int = 2 * 24 * 3600
    rate_apply_per_ip: int = 10
    rate_apply_per_ip_window_seconds: int = 3600
    rate_apply_per_email: int = 3
    rate_apply_per_email_window_seconds: int = 24 * 3600

    # `byline purge` erases rejected and withdrawn applications decided more than this many days ago.
    retention_days: int = Field(default=365, ge=1)
    # Upload files no work sample refers to (left by a process killed mid-request) are deleted once this old.
    upload_orphan_grace_minutes: int = Field(default=60, ge=0)

    api_rate_per_minute: int = Field(default=600, ge=1)
    webhook_timeout_seconds: float = 10.0
    # Webhook deliveries a sender makes side by side.
    webhook_connections: int = Field(default=4, ge=1, le=64)
    # Host names webhooks may reach on internal addresses in production (loopback, private, link-local, ...).
    webhook_allowed_hosts: CommaList = Field(default_factory=list)

    host: str = "127.0.0.1"
    port: int = 8000
    web_workers: int = Field(default=1, ge=1)
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_dir: Path | None = None
    metrics_networks: CommaList = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    metrics_token: SecretStr = SecretStr("")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        former = _FormerNames(settings_cls, (env_settings, dotenv_settings))
        return init_settings, env_settings, dotenv_settings, former, file_secret_settings

    @field_validator(
        "allowed_hosts", "trusted_proxies", "metrics_networks", "webhook_allowed_hosts", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _time_zones():
            raise ValueError(f"not an IANA time zone name: {value!r} (for example Europe/Moscow or UTC)")
        return value

    @model_validator(mode="after")
    def _refuse_placeholders_outside_dev(self) -> Settings:
        if not self.base_url:
            if self.env == "production":
                raise ValueError("BYLINE_BASE_URL must be set to the site's https:// address in production")
            self.base_url = served_url(self.host, self.port)
        if self.env == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEV_SECRET or len(secret) < 32:
                raise ValueError(
                    "BYLINE_SECRET_KEY must be set to a random value of 32+ characters in production"
                )
            if not self.base_url.startswith("https://"):
                raise ValueError("BYLINE_BASE_URL must be https:// in production")
            if self.mail_catcher:
                raise ValueError(
                    "BYLINE_MAIL_CATCHER keeps mail from being delivered: it cannot be on in production"
                )
        return self

    @property
    def mail_catcher_dir(self) -> Path:
        return self.var_dir / "mail-catcher"

    @property
    def smtp_target(self) -> tuple[str, int, str] | None:
        """Where mail goes: the relay, else the local mail catcher, else nowhere yet (mail stays queued)."""
        if self.smtp_host:
            return self.smtp_host, self.smtp_port, self.smtp_security
        if self.mail_catcher:
            return "127.0.0.1", self.mail_catcher_port, "none"
        return None

    @property
    def is_dev(self) -> bool:
        return self.env != "production"

    @cached_property
    def db_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or a SQLite file under var/."""
        return self.database_url or f"sqlite+aiosqlite:///{self.var_dir / 'byline.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def uploads_path(self) -> Path:
        return self.upload_dir or self.var_dir / "uploads"

    @property
    def hosts(self) -> list[str]:
        """Allowed Host headers: the configured hosts and the base URL's, bare and with its port."""
        base = urlsplit(self.base_url)
        names = {*self.allowed_hosts, *([_bracketed(base.hostname)] if base.hostname else [])}
        with_port = {f"{name}:{base.port}" for name in names} if base.port else set()
        return sorted(names | with_port)

    @property
    def max_request_bytes(self) -> int:
        """Body limit on the form route: every sample at its limit plus room for the text fields."""
        return self.max_application_bytes + 2 * MB


def _bracketed(host: str) -> str:
    """An IPv6 address as it appears in a URL or a Host header."""
    return f"[{host}]" if ":" in host else host


def served_url(host: str, port: int) -> str:
    """The address a browser on this machine uses for a server listening on host:port."""
    # A wildcard address listens everywhere but cannot be browsed to: loopback always works.
    name = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://{_bracketed(name)}" + ("" if port == 80 else f":{port}")
