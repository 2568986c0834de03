"""Django settings for the B4 peer, django-post_office (bench/peers/post_office_drain.py).

The database comes from the environment the drain script sets: BENCH_PEER_SQLITE (a file) or
BENCH_PEER_POSTGRES (a database name on BENCH_PEER_POSTGRES_HOST as user postgres). Mail goes by Django's SMTP
backend (smtplib) to the sink on 127.0.0.1:BENCH_PEER_SMTP_PORT. post_office keeps its defaults (batches of
100, a Log row per message) except THREADS_PER_PROCESS, set to Byline's number of SMTP connections so both
send over as many connections at once.
"""

import os

SECRET_KEY = "bench-only"  # noqa: S105
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["post_office"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

if os.environ.get("BENCH_PEER_POSTGRES"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["BENCH_PEER_POSTGRES"],
            "USER": os.environ.get("BENCH_PEER_POSTGRES_USER", "postgres"),
            "HOST": os.environ.get("BENCH_PEER_POSTGRES_HOST", "127.0.0.1"),
            "PORT": os.environ.get("BENCH_PEER_POSTGRES_PORT", "5432"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BENCH_PEER_SQLITE", "post_office.db"),
        }
    }

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("BENCH_PEER_SMTP_PORT", "2525"))
EMAIL_USE_TLS = False
EMAIL_USE_SSL = False
DEFAULT_FROM_EMAIL = "desk@meridian.example"

POST_OFFICE = {
    "BATCH_SIZE": 100,
    "THREADS_PER_PROCESS": int(os.environ.get("BENCH_PEER_THREADS", "4")),
    "LOCK_FILE_NAME": os.environ.get("BENCH_PEER_LOCK", "post_office"),
}

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# post_office reads its template engine's settings even for messages given as text, as Django projects have.
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
