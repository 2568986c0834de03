"""Settings: every field documented in .env.example, placeholders refused in production."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

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
