"""CrisisDesk settings: one env-driven module with laptop defaults.

Laptop mode (no environment at all): SQLite and Celery's filesystem transport under ``var/``,
console email. Production sets ``DATABASE_URL``, ``CELERY_BROKER_URL`` (or ``REDIS_URL``),
``SECRET_KEY``, ``ALLOWED_HOSTS``, ``HTTPS=true`` and the email settings.
"""

from __future__ import annotations

import ipaddress
from datetime import date, timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


class _StrictEnv(environ.Env):
    """django-environ reads any unknown word as False; here ``DEBUG=maybe`` is an error, not a guess."""

    _FALSE_STRINGS = ("false", "off", "no", "n", "0", "")

    def bool(self, var, default=environ.Env.NOTSET):
        raw = self.get_value(var, cast=str, default=default)
        if isinstance(raw, bool):
            return raw
        word = raw.strip().lower()
        if word in self.BOOLEAN_TRUE_STRINGS:
            return True
        if word in self._FALSE_STRINGS:
            return False
        raise environ.ImproperlyConfigured(f"{var}={raw!r} is not a boolean: use true or false.")


env = _StrictEnv()
# A local .env is a convenience for developers; real deployments pass the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("CRISISDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
_LAPTOP_SECRET = "laptop-mode-insecure-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=_LAPTOP_SECRET)
# No SECRET_KEY means a laptop (the deploy check refuses the laptop key: crisisdesk.E001).
LAPTOP_MODE = SECRET_KEY == _LAPTOP_SECRET
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "axes",  # before crisisdesk: crisisdesk/admin.py re-registers its admin pages with auditing
    "crisisdesk",
    "monitoring",
    "playbooks",
    "incidents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crisisdesk.middleware.ContentSecurityPolicyMiddleware",
    # Inside the CSP middleware, so the 503 page carries the policy too.
    "crisisdesk.middleware.DatabaseUnavailableMiddleware",
    # The member's language and time zone (from the session; the browser's language otherwise).
    # Inside the 503 middleware: reading the session needs the database.
    "crisisdesk.preferences.locale.MemberLocaleMiddleware",
    # Last, as django-axes asks: a locked-out sign-in answers 429 (crisisdesk.signin.lockout_response).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crisisdesk.urls"
WSGI_APPLICATION = "crisisdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crisisdesk.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'crisisdesk.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in laptop mode: wait for locks, use WAL.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# axes' lockout check first (crisisdesk/signin.py), then Django's own password check.
AUTHENTICATION_BACKENDS = [
    "crisisdesk.signin.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# The interface's languages: the teams' own (Turkey, Poland, Malaysia, Indonesia) and English.
LANGUAGES = [
    ("en", "English"),
    ("tr", "Türkçe"),
    ("pl", "Polski"),
    ("ms", "Bahasa Melayu"),
    ("id", "Bahasa Indonesia"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Security -------------------------------------------------------------------------------
HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_PROXY", default=HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A strict policy: no inline scripts anywhere, so a stored <script> can never run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
# Sign-in throttling (django-axes, crisisdesk/signin.py): after AXES_FAILURE_LIMIT wrong passwords
# for one username from one address, that pair is locked (the right password too) for
# AXES_COOLOFF_MINUTES, or until an admin resets it when 0. The form and API Basic auth both count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
_AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=_AXES_COOLOFF_MINUTES) if _AXES_COOLOFF_MINUTES > 0 else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "crisisdesk.signin.lockout_response"  # 429: the lockout page, or JSON for the API
AXES_VERBOSE = False  # no start-up banner in every manage.py command; lockouts are still logged
# Outbound requests (crisisdesk/outbound.py) refuse loopback, private, link-local and metadata
# addresses; addresses inside these CIDRs are allowed. Laptop mode allows loopback (drills and
# local test servers); production allows nothing unless set.
OUTBOUND_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(cidr.strip(), strict=False))
    for cidr in env.list(
        "OUTBOUND_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"] if LAPTOP_MODE else []
    )
]
# The OpenAPI schema and docs need a signed-in member, except on a laptop or with DEBUG.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=DEBUG or LAPTOP_MODE)

# --- Cache ----------------------------------------------------------------------------------
# What every web process must share: the webhook's per-credential quota and the signatures it has
# seen. Redis in production (CACHE_URL, else REDIS_URL); without Redis (laptop mode) a table in the
# database, which the gunicorn workers share too (crisisdesk.cache: its counter is atomic). Never a
# per-process memory cache: each gunicorn worker would count and remember on its own.
_CACHE_URL = env.str("CACHE_URL", default=env.str("REDIS_URL", default=""))
if _CACHE_URL and not _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise environ.ImproperlyConfigured(f"CACHE_URL must be a redis:// or rediss:// URL, not {_CACHE_URL!r}.")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
            "KEY_PREFIX": "crisisdesk",
        }
        if _CACHE_URL
        else {
            "BACKEND": "crisisdesk.cache.DatabaseCache",
            "LOCATION": "crisisdesk_cache",
            # Culling drops a third of the rows, live ones too: keep it far above what the quota
            # counters and remembered signatures of a busy day need.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    )
}
# Public dark-site pages are cached under a per-site version (incidents.publishing.cache) in this same
# shared cache, so a publish is seen by every web process at once.
# How long a CDN or browser may reuse a public page before asking again (an ETag makes that cheap).
PUBLIC_PAGE_MAX_AGE = env.int("PUBLIC_PAGE_MAX_AGE", default=15)

# --- Email ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CrisisDesk <crisisdesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
_CELERY_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="filesystem://"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (_CELERY_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_DIR / "queue"),
        "data_folder_out": str(_CELERY_DIR / "queue"),
        "processed_folder": str(_CELERY_DIR / "processed"),
        "control_folder": str(_CELERY_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# The database is the source of truth: tasks return nothing anyone waits for.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_DEFAULT_QUEUE = "default"
# Ingest, scoring/detection and notifications scale on their own queues in production.
CELERY_TASK_ROUTES = {
    "monitoring.tasks.poll_*": {"queue": "ingest"},
    "monitoring.tasks.ingest_*": {"queue": "ingest"},
    "monitoring.tasks.import_*": {"queue": "ingest"},
    "monitoring.tasks.score_*": {"queue": "scoring"},
    "monitoring.tasks.detect_*": {"queue": "scoring"},
    "incidents.tasks.escalate_unacknowledged": {"queue": "notifications"},
    "incidents.tasks.escalate_*": {"queue": "scoring"},
    "incidents.tasks.notify_*": {"queue": "notifications"},
    "incidents.tasks.deliver_*": {"queue": "notifications"},
}
CELERY_BEAT_SCHEDULE: dict = {}  # filled in crisisdesk/celery.py from each app's schedule

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Basic first, so an anonymous API call gets 401 with a WWW-Authenticate challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API speaks JSON: a form encoding cannot carry its lists and objects (own_accounts, terms),
    # and the schema then promises only what the API really reads.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "crisisdesk.api_schema.CrisisDeskAutoSchema",
    # Service refusals and validation errors become statuses in one place (crisisdesk.api_errors).
    "EXCEPTION_HANDLER": "crisisdesk.api_errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"webhook_credential": env.str("WEBHOOK_THROTTLE", default="600/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CrisisDesk API",
    "DESCRIPTION": "Watches, mentions, incidents and the webhook intake of CrisisDesk.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["crisisdesk.api_docs.ApiDocsAccess"],
    # One name for the incident status choices wherever a serializer uses them (status, to_status).
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Status",
        # Three models have a "kind": name each choice set after its own class.
        "SourceKindEnum": "monitoring.models.SourceKind",
        "RuleKindEnum": "monitoring.models.RuleKind",
        "TemplateKindEnum": "playbooks.models.TemplateKind",
    },
}

# --- CrisisDesk -----------------------------------------------------------------------------
# Largest webhook/import batch accepted in one request; larger ones get 413.
WEBHOOK_MAX_BATCH = env.int("WEBHOOK_MAX_BATCH", default=1000)
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES + 1024
# A signed webhook request is accepted only while its signing time is this close to ours (either
# way), and its signature is remembered that long so the same request is never accepted twice.
WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = env.int("WEBHOOK_SIGNATURE_TOLERANCE_SECONDS", default=300)
# The body-only X-CrisisDesk-Signature (replayable forever) is accepted until this day (UTC), with
# Deprecation and Sunset headers on every answer; from it on it is refused. Empty: refused now.
_LEGACY_SUNSET = env.str("WEBHOOK_LEGACY_SIGNATURE_SUNSET", default="2027-03-01")
try:
    WEBHOOK_LEGACY_SIGNATURE_SUNSET: date | None = (
        date.fromisoformat(_LEGACY_SUNSET) if _LEGACY_SUNSET else None
    )
except ValueError:
    raise environ.ImproperlyConfigured(
        f"WEBHOOK_LEGACY_SIGNATURE_SUNSET={_LEGACY_SUNSET!r} is not a date: use YYYY-MM-DD, or empty."
    ) from None
# The day the timestamped CrisisDesk-Signature shipped: the legacy header's Deprecation date.
WEBHOOK_LEGACY_SIGNATURE_DEPRECATED = date(2026, 12, 2)
FIRST_RESPONSE_MINUTES = env.int("FIRST_RESPONSE_MINUTES", default=60)
# Where the drill recordings live (JSONL); the demo's lives in the repository.
# Bluesky Jetstream endpoint for the long-running consumer (manage.py consume_jetstream).
JETSTREAM_URL = env.str("JETSTREAM_URL", default="wss://jetstream2.us-east.bsky.network/subscribe")
DRILL_DIR = Path(env.str("DRILL_DIR", default=str(BASE_DIR / "monitoring" / "drills")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"one_line_client_errors": {"()": "crisisdesk.log_filters.OneLineForClientErrors"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line_client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs every successful sign-in at INFO; failures and lockouts are WARNINGs.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
