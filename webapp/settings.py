"""Switchboard settings: one env-driven module with development defaults.

Production is the same code with environment variables (see docs/deployment.md):
DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS, DEBUG=false, ...
"""
import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


VAR_DIR = Path(os.environ.get("SWITCHBOARD_VAR_DIR") or BASE_DIR / "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)
# A probe site worker (`make site LOCATION=eu`): it runs probes from broker messages and needs only
# CELERY_BROKER_URL. Without DATABASE_URL it gets no database at all (any query raises), and it
# needs no SECRET_KEY or ALLOWED_HOSTS: it serves no page and signs nothing.
PROBE_SITE = os.environ.get("PROBE_SITE", "").strip()


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if not DEBUG and PROBE_SITE:
        return secrets.token_urlsafe(50)
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is false (a long random string, kept out of the code)."
        )
    # Development: a random key kept in the var directory, never in the code.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS and not PROBE_SITE:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is false (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "core",
    "topology",
    "probes",
    "decisions",
    "reports",
    "imports",
    "notifications",
    "plans",
    "dashboard",
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
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "webapp.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "webapp.wsgi.application"


def _database(url: str) -> dict:
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        # Connections are kept between requests, as for PostgreSQL: opening one and running the
        # pragmas below costs more than the rest of a request answered from memory.
        config["OPTIONS"] = {
            # Web, worker and beat share the file: wait for locks and take them up front.
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # A file, not memory, so that a Celery worker started by a test sees the test database;
        # one per test process, so that two test runs on one checkout do not share it.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-switchboard-{os.getpid()}.sqlite3")}
    elif engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_URL uses {engine}; Switchboard supports PostgreSQL (postgres://) and SQLite (sqlite:///)."
        )
    else:
        # Parameters bound by the server, and a statement run five times on a connection is prepared:
        # the queries of every request (the user, the topology stamp) skip planning. A pooler in
        # transaction mode without prepared-statement support needs DATABASE_PREPARED_STATEMENTS=false.
        config["OPTIONS"] = {"server_side_binding": True,
                             "prepare_threshold": 5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None}
    return config


DATABASES = {
    "default": {"ENGINE": "django.db.backends.dummy"} if PROBE_SITE and not os.environ.get("DATABASE_URL")
    else _database(os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# AxesStandaloneBackend first: it refuses a locked-out user name and address before a password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "webapp.auth.UserBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Sessions are read from the cache, and from the database only on a miss: one query less per request.
# Web servers on more than one machine need CACHE_URL (a shared Redis) so that a logout is seen by all.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Cookies and transport (docs/security.md). With DEBUG off the cookies are HTTPS-only unless
# SECURE_COOKIES=false says otherwise; neither cookie is readable by JavaScript (htmx sends the CSRF
# token from the page, never from the cookie); both are SameSite=Lax.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Only when a proxy in front terminates TLS and sets X-Forwarded-Proto (it must strip the client's own).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
# Redirect plain HTTP to HTTPS (off by default: the proxy usually does it); /healthz stays plain.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# HSTS is sent on HTTPS responses only; a year by default when DEBUG is off, 0 turns it off.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if SECURE_HSTS_PRELOAD and not (SECURE_HSTS_INCLUDE_SUBDOMAINS and SECURE_HSTS_SECONDS >= 31_536_000):
    raise ImproperlyConfigured(
        "SECURE_HSTS_PRELOAD=true needs SECURE_HSTS_INCLUDE_SUBDOMAINS=true and SECURE_HSTS_SECONDS of at "
        "least 31536000 (what browsers require for the preload list)."
    )

# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for one user name from
# one address, that pair is refused, even with the right password, for LOGIN_LOCKOUT_MINUTES (429 and
# templates/registration/locked_out.html). Another user, or the same user elsewhere, is not affected;
# a successful sign-in resets the count. Attempts are kept in the database (axes tables). The address
# is REMOTE_ADDR: behind a proxy that is the proxy's, so the pair is then effectively the user name.
AXES_ENABLED = env_bool("LOGIN_THROTTLING", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A lockout lasts from the last failure that caused it; more tries while locked do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): scripts only from this site's own files (static/js and the
# vendored libraries in static/vendor), never inline; no inline event handlers or style attributes in
# the templates (static/js/app.js applies data-* attributes instead). Exceptions are per view and
# commented where they are made. CSP_REPORT_ONLY=true sends the policy as Report-Only (to try a change).
_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

def _caches() -> dict:
    """`default` (sessions and small values) and `diagrams` (rendered topology drawings, large and
    many): apart, so that culling drawings never drops sessions and drawings can be cleared alone."""
    url = os.environ.get("CACHE_URL", "").strip()
    if url.startswith(("redis://", "rediss://")):
        redis = "django.core.cache.backends.redis.RedisCache"
        return {"default": {"BACKEND": redis, "LOCATION": url},
                "diagrams": {"BACKEND": redis, "LOCATION": url, "KEY_PREFIX": "diagrams"}}
    if url:
        raise ImproperlyConfigured("CACHE_URL must be a redis:// URL (or unset for the file cache under var/).")
    # Drawings are stored uncompressed (writing them is on the path of each new drawing), so fewer are kept.
    options = {"default": {"MAX_ENTRIES": 5000}, "diagrams": {"MAX_ENTRIES": 600, "COMPRESS_LEVEL": 0}}
    return {name: {"BACKEND": "webapp.cache.FileCache", "LOCATION": str(VAR_DIR / "cache" / name), "OPTIONS": found}
            for name, found in options.items()}


# Rendered diagrams are cached by content hash: the file cache shares them between local processes.
CACHES = _caches()
DIAGRAM_CACHE_SECONDS = env_int("DIAGRAM_CACHE_SECONDS", 7 * 24 * 3600)

# Largest manifest accepted by POST /api/v1/registrations/ (413 above it).
REGISTRATION_MAX_BYTES = env_int("REGISTRATION_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# Ordinary form posts stay small; the registration view reads its body itself.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "topology.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # ?format= belongs to the topology endpoint (svg, png, dot, json), not to content negotiation.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Register services and their interactions; read the service registry.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI is served from the pinned drf-spectacular-sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"StyleEnum": "topology.choices.Style", "ViaEnum": "core.choices.Via"},
}


def _broker_settings() -> tuple[str, dict]:
    url = os.environ.get("CELERY_BROKER_URL", "").strip()
    if url:
        if url.split("://", 1)[0] not in {"redis", "rediss", "amqp", "amqps", "pyamqp", "filesystem"}:
            raise ImproperlyConfigured(
                f"CELERY_BROKER_URL scheme of {url.split('://', 1)[0]!r} is not supported; use redis:// or amqp://."
            )
        if not url.startswith("filesystem"):
            return url, {}
    folder = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # The filesystem transport needs one folder for both directions to work across processes.
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    return "filesystem://", options


CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = _broker_settings()
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Probe results come back from every location on this queue; only central workers (with the
# database) consume it. The run tasks go to probes.<location> (probes/services.py).
PROBE_RESULTS_QUEUE = os.environ.get("PROBE_RESULTS_QUEUE", "").strip() or "probes.results"
CELERY_TASK_ROUTES = {"probes.tasks.probe_results_record": {"queue": PROBE_RESULTS_QUEUE}}
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "topology.tasks.worker_heartbeat", "schedule": 30.0},
    "recommendations-stale": {"task": "decisions.tasks.recommendations_refresh_stale", "schedule": 600.0},
    "probes-dispatch": {"task": "topology.tasks.probes_dispatch", "schedule": 1.0},
    "probes-rollup": {"task": "topology.tasks.probe_rollups_update", "schedule": 60.0},
    "probes-retention": {"task": "topology.tasks.probe_retention_apply", "schedule": 3600.0},
    "reports-retention": {"task": "reports.tasks.report_retention_apply", "schedule": 3600.0},
    "notifications-sweep": {"task": "notifications.tasks.deliveries_sweep", "schedule": 10.0},
}
# A worker is shown as alive while its last heartbeat is younger than this.
WORKER_HEARTBEAT_STALE_SECONDS = 120


def env_networks(name: str) -> list[str]:
    """A comma-separated list of networks (10.0.0.0/8, ::1/128); a bad one stops the start-up."""
    networks = env_list(name, [])
    for text in networks:
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {text!r} is not a network such as 10.0.0.0/8 or ::1/128") from None
    return networks


# Probes. Targets are checked on the address actually connected to: an allow-list (empty = any) and a
# deny-list; link-local and cloud metadata addresses are always refused (probes/engine/policy.py).
PROBE_ALLOWED_NETWORKS = env_networks("PROBE_ALLOWED_NETWORKS")
PROBE_DENIED_NETWORKS = env_networks("PROBE_DENIED_NETWORKS")
# The locations probes may name; each has a Celery queue probes.<location> that workers there consume.
# PDF reports (reports/): rendered by headless Chromium in a Celery worker.
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "").strip() or "/usr/bin/chromium"
REPORT_RENDER_SECONDS = env_int("REPORT_RENDER_SECONDS", 120, minimum=5)  # one rendering, at most
REPORT_QUEUE_SECONDS = env_int("REPORT_QUEUE_SECONDS", 300, minimum=5)  # a report no worker took by then fails
REPORT_RETENTION_DAYS = env_int("REPORT_RETENTION_DAYS", 30, minimum=1)  # PDFs older than this are removed
REPORT_QUEUE = os.environ.get("REPORT_QUEUE", "").strip() or "celery"  # workers with Chromium consume it
# A catalog import larger than this (bytes of documents) is applied by a Celery job, with progress.
IMPORT_INLINE_MAX_BYTES = env_int("IMPORT_INLINE_MAX_BYTES", 256 * 1024, minimum=1)

PROBE_LOCATIONS = env_list("PROBE_LOCATIONS", ["default"])
PROBE_CA_BUNDLE = os.environ.get("PROBE_CA_BUNDLE", "")  # extra CAs for HTTPS/gRPC probes (a PEM file)
PROBE_CONCURRENCY = env_int("PROBE_CONCURRENCY", 256, minimum=1)
PROBE_BATCH_SIZE = env_int("PROBE_BATCH_SIZE", 250, minimum=1)
PROBE_RAW_RETENTION_HOURS = env_int("PROBE_RAW_RETENTION_HOURS", 48, minimum=1)
PROBE_MINUTE_ROLLUP_RETENTION_HOURS = env_int("PROBE_MINUTE_ROLLUP_RETENTION_HOURS", 24, minimum=1)
PROBE_HOUR_ROLLUP_RETENTION_DAYS = env_int("PROBE_HOUR_ROLLUP_RETENTION_DAYS", 90, minimum=1)
# Flapping protection: a state is confirmed (and announced) once this many results in a row had it.
PROBE_DOWN_AFTER = env_int("PROBE_DOWN_AFTER", 2, minimum=1)  # down or degraded
PROBE_UP_AFTER = env_int("PROBE_UP_AFTER", 2, minimum=1)



def _public_url() -> str:
    url = (os.environ.get("SWITCHBOARD_URL", "").strip() or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    if not url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"SWITCHBOARD_URL={url!r} must be an http:// or https:// URL (where people open "
                                   "Switchboard; notifications link to its pages).")
    return url.rstrip("/")


# Notifications (notifications/): links in messages point here.
SWITCHBOARD_URL = _public_url()
NOTIFY_TIMEOUT_SECONDS = env_int("NOTIFY_TIMEOUT_SECONDS", 10, minimum=1)  # per connect and per read
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 8, minimum=1)  # then the delivery is failed
NOTIFY_BACKOFF_SECONDS = env_int("NOTIFY_BACKOFF_SECONDS", 15, minimum=1)  # first retry; doubles each time
NOTIFY_BACKOFF_MAX_SECONDS = env_int("NOTIFY_BACKOFF_MAX_SECONDS", 3600, minimum=1)
# Deliveries go to this queue; the worker `make run` starts consumes it (site workers that only run
# probes, -Q probes.<site>, do not: at least one worker must).
NOTIFY_QUEUE = os.environ.get("NOTIFY_QUEUE", "").strip() or "celery"
# E-mail: printed on the console by default; set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS) to send through an SMTP server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = NOTIFY_TIMEOUT_SECONDS
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "switchboard@localhost"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
