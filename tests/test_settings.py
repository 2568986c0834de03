"""Settings: every field documented in .env.example, placeholders refused in production."""

from __future__ import annotations

import logging
import re

import pytest
from pydantic import ValidationError

from app import settings as settings_module
from app.settings import Settings
from tests.environment import ROOT


def test_env_example_lists_every_setting_with_a_comment():
    text = (ROOT / ".env.example").read_text()
    documented = re.findall(r"^BYLINE_([A-Z0-9_]+)=", text, flags=re.MULTILINE)
    assert sorted(name.lower() for name in documented) == sorted(Settings.model_fields)
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("BYLINE_"):
            above = index - 1
            while lines[above].startswith("BYLINE_"):
                above -= 1
            assert lines[above].startswith("#"), f"{line} has no comment above it"


def test_production_refuses_the_development_secret():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", base_url="https://desk.example.org", _env_file=None)
    with pytest.raises(ValidationError, match="https"):
        Settings(env="production", secret_key="x" * 40, base_url="http://desk.example.org", _env_file=None)
    ok = Settings(env="production", secret_key="x" * 40, base_url="https://desk.example.org", _env_file=None)
    assert not ok.is_dev


def test_comma_separated_lists_and_defaults(monkeypatch):
    monkeypatch.setenv("BYLINE_ALLOWED_HOSTS", "a.example, b.example")
    settings = Settings(_env_file=None, base_url="https://desk.example.org")
    assert settings.hosts == ["a.example", "b.example", "desk.example.org"]
    local = Settings(_env_file=None, base_url="http://127.0.0.1:8000", allowed_hosts="localhost")
    assert local.hosts == ["127.0.0.1", "127.0.0.1:8000", "localhost", "localhost:8000"]
    assert settings.db_url.startswith("sqlite+aiosqlite:///")


def test_without_a_base_url_links_and_hosts_follow_the_served_address(monkeypatch):
    monkeypatch.delenv("BYLINE_BASE_URL", raising=False)
    local = Settings(_env_file=None, port=8101)
    assert local.base_url == "http://127.0.0.1:8101"
    assert {"127.0.0.1:8101", "localhost:8101"} <= set(local.hosts)
    everywhere = Settings(_env_file=None, host="0.0.0.0", port=9000)  # noqa: S104
    assert everywhere.base_url == "http://127.0.0.1:9000"
    assert (
        Settings(_env_file=None, base_url="http://desk.test:8000", port=9000).base_url
        == "http://desk.test:8000"
    )
    with pytest.raises(ValidationError, match="BYLINE_BASE_URL must be set"):
        Settings(env="production", secret_key="x" * 40, _env_file=None)


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Each renamed setting warns once per process: start each test with none warned yet."""
    monkeypatch.setattr(settings_module, "_warned", set())


def renamed_warnings(caplog) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "byline.settings" and r.levelname == "WARNING"
    ]


def test_an_old_setting_name_still_works_and_the_log_names_the_new_one(monkeypatch, caplog, fresh_warnings):
    monkeypatch.setenv("BYLINE_MAIL_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("BYLINE_MAIL_WORKER_INPROCESS", "false")
    with caplog.at_level(logging.WARNING, logger="byline.settings"):
        settings = Settings(_env_file=None)
    assert settings.delivery_max_attempts == 3 and settings.worker_inprocess is False
    warned = renamed_warnings(caplog)
    assert any(
        "BYLINE_MAIL_MAX_ATTEMPTS" in line and "BYLINE_DELIVERY_MAX_ATTEMPTS" in line for line in warned
    )
    assert any(
        "BYLINE_MAIL_WORKER_INPROCESS" in line and "BYLINE_WORKER_INPROCESS" in line for line in warned
    )


def test_the_new_setting_name_wins_over_the_old_one(monkeypatch, caplog, fresh_warnings):
    monkeypatch.setenv("BYLINE_MAIL_RETRY_BASE_SECONDS", "5")
    monkeypatch.setenv("BYLINE_DELIVERY_RETRY_BASE_SECONDS", "7")
    with caplog.at_level(logging.WARNING, logger="byline.settings"):
        settings = Settings(_env_file=None)
    assert settings.delivery_retry_base_seconds == 7
    [warning] = renamed_warnings(caplog)
    assert (
        "BYLINE_MAIL_RETRY_BASE_SECONDS is ignored" in warning
        and "BYLINE_DELIVERY_RETRY_BASE_SECONDS" in warning
    )
    # Given directly (as tests and the composition root do), the field's own name is the only one.
    assert Settings(_env_file=None, delivery_retry_base_seconds=9).delivery_retry_base_seconds == 9


def test_old_setting_names_in_the_env_file_work_too_below_the_new_ones(tmp_path, caplog, fresh_warnings):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "BYLINE_MAIL_LOCK_SECONDS=42\nBYLINE_MAIL_POLL_SECONDS=0.5\nBYLINE_DELIVERY_POLL_SECONDS=2\n"
    )
    with caplog.at_level(logging.WARNING, logger="byline.settings"):
        settings = Settings(_env_file=env_file)
    assert settings.delivery_lock_seconds == 42 and settings.delivery_poll_seconds == 2
    assert len(renamed_warnings(caplog)) == 2
    unset = Settings(_env_file=None)
    assert unset.delivery_lock_seconds == 300 and unset.delivery_poll_seconds == 1.0
