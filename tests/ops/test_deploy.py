"""deploy/: the nginx site passes `nginx -t`, the systemd units verify and run `byline` commands, and
compose.yaml sets only settings that exist."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app.cli import main
from app.core.web import STATIC_DIR
from app.settings import MB, Settings
from tests.environment import ROOT

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
COMMANDS = set(main.commands)
SETTINGS = {f"BYLINE_{name.upper()}" for name in Settings.model_fields}
BYLINE = str(Path(sys.executable).with_name("byline"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_nginx_site_passes_nginx_t_with_a_certificate_in_place(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (.ci/run installs nginx-light)")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=byline.example.org",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "logs").mkdir()
    site = (DEPLOY / "nginx" / "byline.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/byline.example.org/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/byline.example.org/privkey.pem", str(tmp_path / "key.pem"))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/logs/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  access_log {tmp_path}/logs/access.log;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    checked = subprocess.run(
        [
            nginx,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(tmp_path / "logs/error.log"),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_site_sends_the_trusted_headers_and_matches_the_app():
    site = (DEPLOY / "nginx" / "byline.conf").read_text()
    assert "return 301 https://$host$request_uri;" in site
    body = re.search(r"client_max_body_size (\d+)m;", site)
    assert body and int(body.group(1)) * MB == Settings().max_request_bytes
    for header in ("X-Forwarded-For $remote_addr", "X-Forwarded-Proto $scheme", "X-Request-ID $request_id"):
        assert f"proxy_set_header {header};" in site
    assert re.search(r"location = /metrics \{\s*return 404;", site)
    static = re.search(r"location /static/ \{\s*alias (\S+);", site)
    assert static and static.group(1).rstrip("/").endswith("/".join(STATIC_DIR.parts[-2:]))


def test_units_run_byline_commands_and_set_only_existing_settings():
    services = [path for path in UNITS if path.suffix == ".service"]
    assert {path.name for path in services} == {
        "byline-web.service",
        "byline-worker@.service",
        "byline-backup.service",
        "byline-purge.service",
    }
    for path in services:
        service = unit(path)["Service"]
        command = shlex.split(service["ExecStart"])
        assert command[0] == "/opt/byline/.venv/bin/byline", path.name
        assert command[1] in COMMANDS, (path.name, command)
        assert service["User"] == "byline" and service["EnvironmentFile"] == "/etc/byline/byline.env"
        for line in path.read_text().splitlines():
            if line.startswith("Environment="):
                assert line.removeprefix("Environment=").split("=", 1)[0] in SETTINGS, line
    timers = {path.stem for path in UNITS if path.suffix == ".timer"}
    assert timers == {"byline-backup", "byline-purge"}
    for name in timers:
        assert unit(DEPLOY / "systemd" / f"{name}.timer")["Timer"]["OnCalendar"].startswith("*-*-*")


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the configparser checks above still ran")
    names = []
    for path in UNITS:
        # Pointed at this checkout's `byline`, since verify checks that each command exists.
        name = path.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(path.read_text().replace("/opt/byline/.venv/bin/byline", BYLINE))
        names.append(str(tmp_path / name))
    checked = subprocess.run([analyze, "verify", *names], capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert str(tmp_path) not in checked.stderr, checked.stderr  # no warning about our units


def test_compose_runs_web_worker_postgresql_and_a_relay_with_real_settings():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "mail", "migrate", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    byline = {name: spec for name, spec in services.items() if spec.get("image") == "byline:latest"}
    assert set(byline) == {"migrate", "web", "worker"}
    for name, spec in byline.items():
        assert spec["command"][0] == "byline" and spec["command"][1] in COMMANDS, name
        assert spec["env_file"] == "../.env" and spec["build"]["dockerfile"] == "deploy/Containerfile"
        unknown = {key for key in spec["environment"] if key not in SETTINGS}
        assert not unknown, (name, unknown)
        assert spec["environment"]["BYLINE_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert spec["environment"]["BYLINE_SMTP_HOST"] == "mail"
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["web"]["environment"]["BYLINE_METRICS_DIR"]


def test_containerfile_builds_a_non_root_image_pinned_by_the_constraints():
    text = (DEPLOY / "Containerfile").read_text()
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["python:3.11-slim"]
    assert "-c constraints.txt" in text
    user = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r'^CMD \["byline", "serve"\]$', text, re.MULTILINE)
    for name in re.findall(r"BYLINE_[A-Z_]+", text):
        assert name in SETTINGS, name
