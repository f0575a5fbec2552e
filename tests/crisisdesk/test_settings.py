"""The settings module: laptop defaults with no environment, production from the environment with a
clean deploy check, and loud failure on a value that doesn't parse. Each case imports the settings in
a fresh interpreter, because settings are read once per process."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Anything a developer's shell or CI may have set that would change the answer.
SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "HTTPS",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "BEHIND_PROXY",
    "STATICFILES_BACKEND",
    "STATIC_ROOT",
    "EMAIL_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    # The browser tests' conftest sets this in the test process; no deployment may (async.E001).
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)

PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "broker": settings.CELERY_BROKER_URL,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "email": settings.EMAIL_BACKEND,
    "debug": settings.DEBUG,
    "beat_schedule_file": settings.CELERY_BEAT_SCHEDULE_FILENAME,
}))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env["CRISISDESK_VAR_DIR"] = str(tmp_path / "var")
    env["DJANGO_SETTINGS_MODULE"] = "crisisdesk.settings"
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_env(tmp_path: Path) -> dict[str, str]:
    return _env(
        tmp_path,
        DEBUG="false",
        HTTPS="true",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL="postgres://crisisdesk@db.internal:5432/crisisdesk",
        REDIS_URL="redis://redis.internal:6379/0",
        ALLOWED_HOSTS="crisisdesk.example.com",
        STATICFILES_BACKEND="whitenoise.storage.CompressedManifestStaticFilesStorage",
    )


def test_the_deploy_check_reports_nothing_with_production_settings(tmp_path) -> None:
    done = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_the_deploy_check_fails_on_the_laptop_secret_key(tmp_path) -> None:
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    done = _run(["manage.py", "check", "--deploy"], env)
    assert done.returncode != 0
    assert "crisisdesk.E001" in done.stderr


def test_the_deploy_check_warns_about_laptop_services(tmp_path) -> None:
    env = production_env(tmp_path)
    del env["DATABASE_URL"], env["REDIS_URL"]
    done = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert done.returncode != 0
    assert "crisisdesk.W001" in done.stderr and "crisisdesk.W002" in done.stderr


def test_laptop_defaults_are_sqlite_and_a_filesystem_broker_under_var(tmp_path) -> None:
    done = _run(["-c", f"import django; django.setup()\n{PRINT_SETTINGS}"], _env(tmp_path))
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout.strip().splitlines()[-1])
    var_dir = tmp_path / "var"

    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["db_name"] == str(var_dir / "crisisdesk.sqlite3")
    assert values["broker"] == "filesystem://"
    # A real worker and beat share one folder, not eager mode.
    assert values["eager"] is False
    assert values["transport"]["data_folder_in"] == values["transport"]["data_folder_out"]
    assert values["transport"]["data_folder_in"].startswith(str(var_dir))
    assert (var_dir / "celery" / "queue").is_dir()
    assert values["beat_schedule_file"].startswith(str(var_dir))
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"
    assert values["debug"] is False


def test_production_values_come_from_the_environment(tmp_path) -> None:
    done = _run(["-c", f"import django; django.setup()\n{PRINT_SETTINGS}"], production_env(tmp_path))
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout.strip().splitlines()[-1])

    assert values["engine"] == "django.db.backends.postgresql"
    assert values["db_name"] == "crisisdesk"
    assert values["broker"] == "redis://redis.internal:6379/0"
    assert "data_folder_in" not in values["transport"]


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("HTTPS", "yes please", "HTTPS='yes please' is not a boolean"),
        ("CONN_MAX_AGE", "forever", "invalid literal for int() with base 10: 'forever'"),
        ("DATABASE_URL", "nosuchdb://x", "'nosuchdb' isn't an available database backend"),
    ],
)
def test_a_value_that_does_not_parse_fails_loudly(tmp_path, variable, value, complaint) -> None:
    done = _run(["manage.py", "check"], _env(tmp_path, **{variable: value}))
    assert done.returncode != 0
    assert complaint in done.stderr, done.stderr
