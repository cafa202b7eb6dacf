"""iotsite settings, read from the environment with safe defaults.

One file, one place to read. Every value comes through the small typed helpers below,
which refuse bad values with ImproperlyConfigured instead of guessing.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from iotsite.local_secret import local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def envfloat(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None


def envseconds(name: str, default: timedelta) -> timedelta:
    """A duration as seconds, or with a unit suffix: 90, 30m, 12h, 7d."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (raw[:-1], raw[-1]) if raw[-1:] in units else (raw, "s")
    try:
        return timedelta(seconds=float(number) * units[unit])
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a duration (e.g. 90, 30m, 12h, 7d)") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


def envnetworks(name: str, default: str = "") -> list[str]:
    """CIDRs (10.0.0.0/8, 192.168.1.20/32, fd00::/8), comma-separated; a bare address is a /32 or /128."""
    networks = []
    for item in envlist(name, default):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a network (e.g. 192.168.1.0/24)") from None
    return networks


DEBUG = envbool("DEBUG", False)


SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = local_secret_key()  # for local use only

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
# The base URL devices are told to use (QR codes); empty means the request's own host.
PUBLIC_BASE_URL = envstr("PUBLIC_BASE_URL").rstrip("/")

# HTTPS (docs/operations.md). Behind a TLS-terminating proxy, trust its
# scheme header: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https (never without
# such a proxy: a client could claim HTTPS). Cookies are Secure unless DEBUG; HSTS is
# only ever sent over HTTPS, so its default is harmless on plain HTTP.
_proxy_ssl_header = envlist("SECURE_PROXY_SSL_HEADER", "")
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https")
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
X_FRAME_OPTIONS = "DENY"
# Every page loads what it needs from this server only (iotsite/middleware.py); an
# empty value sends no policy. The API docs have a laxer one of their own (iotsite/urls.py).
CONTENT_SECURITY_POLICY = envstr(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "accounts",
    "devices",
    "telemetry",
    "live",
    "alerts",
    "devicecomm",
    "protocols",
    "dashboard",
]

MIDDLEWARE = [
    "iotsite.log.RequestIdMiddleware",
    "protocols.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "iotsite.middleware.ContentSecurityPolicyMiddleware",
    "iotsite.request_limits.BodySizeLimitMiddleware",
    "accounts.login_guard.LoginGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "iotsite.replicas.PrimaryReadsAfterWriteMiddleware",
    "iotsite.exceptions.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "iotsite.urls"
WSGI_APPLICATION = "iotsite.wsgi.application"
ASGI_APPLICATION = "iotsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Database: SQLite by default so `make run` needs nothing else running.
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")


def database_from_url(url: str, *, conn_max_age: int) -> dict:
    """dj-database-url's settings, also for several hosts (postgres://u@a:5432,b:5432/db):
    libpq tries them in turn, and with ?target_session_attrs=read-write keeps the one
    that is the primary, so the app finds a new primary after a failover by itself."""
    scheme, _, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    credentials, at, hosts = netloc.rpartition("@")
    if "," not in hosts:
        return dict(dj_database_url.parse(url, conn_max_age=conn_max_age))
    pairs = [host.rsplit(":", 1) if ":" in host else [host, ""] for host in hosts.split(",")]
    first = f"{scheme}://{credentials}{at}{pairs[0][0]}{slash}{path}"
    config = dict(dj_database_url.parse(first, conn_max_age=conn_max_age))
    config["HOST"] = ",".join(host for host, _port in pairs)
    config["PORT"] = ",".join(port or "5432" for _host, port in pairs)
    return config


# Persistent connections suit WSGI workers (one thread each); under ASGI use the pool
# instead, since every sync view runs in a thread of its own (docs/operations.md).
DATABASES = {"default": database_from_url(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every sync view runs in its own thread, so persistent connections
    # leak; a pool bounds them. Off by default, on in `make serve`.
    pool_size = envint("DB_POOL_MAX_SIZE", 0)
    if pool_size:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
    # Parallel test runs on one server each get their own test database.
    DATABASES["default"]["TEST"] = {"NAME": envstr("TEST_DATABASE_NAME", f"test_iotsite_{os.getpid()}")}
    # A host that does not answer (a dead machine drops packets) must not hold a
    # request for the kernel's TCP timeout; with several hosts in DATABASE_URL
    # (failover), each is tried for this long in turn.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = envint("DB_CONNECT_TIMEOUT", 3)
else:
    # WAL lets the dashboard read while a device writes; the busy timeout rides out
    # the short write lock instead of answering "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests run on a file, as production does, not on Django's shared in-memory
    # database: there a worker thread writing beside a request gets "database table is
    # locked" at once, where a file waits out the write lock for the busy timeout.
    DATABASES["default"]["TEST"] = {
        "NAME": envstr("TEST_DATABASE_NAME", str(Path(tempfile.gettempdir()) / f"test_iotsite_{os.getpid()}.sqlite3"))
    }


def database_urls(raw: str) -> list[str]:
    """Comma-separated URLs; a comma inside one URL (several hosts) is told apart by
    what follows it, which is not a scheme."""
    return [url.strip() for url in re.split(r",(?=\s*[a-z][a-z0-9+.-]*://)", raw) if url.strip()]


# Read replicas (docs/scaling.md): history, exports and the dashboard's reads go to one
# that is usable (iotsite/replicas.py), everything else to the primary above.
DATABASE_REPLICA_URLS = database_urls(envstr("DATABASE_REPLICA_URLS"))
# A replica further behind than this, or not streaming, is skipped: the primary answers.
DATABASE_REPLICA_MAX_LAG = envseconds("DATABASE_REPLICA_MAX_LAG", timedelta(seconds=5))
# Retry-After of the 503 answered while the database cannot answer (a failover).
DB_RETRY_AFTER = envint("DB_RETRY_AFTER", 2)
DATABASE_REPLICA_CHECK_EVERY = envseconds("DATABASE_REPLICA_CHECK_EVERY", timedelta(seconds=2))
for _index, _url in enumerate(DATABASE_REPLICA_URLS):
    _replica = dict(DATABASES["default"], **database_from_url(_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]))
    # The pool and timeouts as for the primary, but not its target_session_attrs=read-write.
    _shared_options = {k: v for k, v in DATABASES["default"].get("OPTIONS", {}).items() if k != "target_session_attrs"}
    _replica["OPTIONS"] = {**_shared_options, **_replica.get("OPTIONS", {})}
    # Tests run against the primary's test database; a replica has no test database of its own.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_index}"] = _replica
if DATABASE_REPLICA_URLS:
    DATABASE_ROUTERS = ["iotsite.replicas.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.CaseInsensitiveUsernameBackend"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 for new and re-hashed passwords; the others still check older hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Log-in brute force (accounts/login_guard.py): failures counted per username and per
# address over the window; past the limit, locked out for LOGIN_LOCKOUT, doubling
# with each further failure up to LOGIN_LOCKOUT_MAX.
LOGIN_FAILURES_PER_USERNAME = envint("LOGIN_FAILURES_PER_USERNAME", 5)
LOGIN_FAILURES_PER_ADDRESS = envint("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_FAILURE_WINDOW = envseconds("LOGIN_FAILURE_WINDOW", timedelta(minutes=15))
LOGIN_LOCKOUT = envseconds("LOGIN_LOCKOUT", timedelta(minutes=1))
LOGIN_LOCKOUT_MAX = envseconds("LOGIN_LOCKOUT_MAX", timedelta(hours=1))
LOGIN_GUARD_PATHS = envlist("LOGIN_GUARD_PATHS", "/api/auth/token/,/login/,/admin/login/,/api-auth/login/")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_build"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Cache and channel layer: Redis when REDIS_URL is set (shared by every worker),
# in-process otherwise (one process, `make run`).
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # The prefix keeps apart servers (or test runs) that share one Redis:
            # pub/sub channels ignore the database number.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": envstr("CHANNEL_LAYER_PREFIX", "asgi")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # A consumer that falls behind loses messages past `capacity`, and an unread
    # message is dropped after `expiry` seconds: memory stays bounded.
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 100, "expiry": 60}}
    }

# Live push (/ws/live/): how long ingestion may wait on the channel layer, how many
# messages a slow browser may have queued before newer ones are dropped, and what a
# browser may send (bytes per message, messages per second, device subscriptions).
LIVE_SEND_TIMEOUT = envfloat("LIVE_SEND_TIMEOUT", 0.5)
LIVE_CLIENT_QUEUE = envint("LIVE_CLIENT_QUEUE", 64)
LIVE_MAX_MESSAGE_BYTES = envint("LIVE_MAX_MESSAGE_BYTES", 4096)
LIVE_MESSAGES_PER_SECOND = envfloat("LIVE_MESSAGES_PER_SECOND", 10)
LIVE_MAX_SUBSCRIPTIONS = envint("LIVE_MAX_SUBSCRIPTIONS", 200)

# Alert email goes through Django's email backend: SMTP when EMAIL_HOST is set, the
# console otherwise (`make run` prints alert mail instead of losing it).
EMAIL_HOST = envstr("EMAIL_HOST")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "iotsite <alerts@localhost>")
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)

# Alert delivery (sendalerts): per-attempt timeout, how long a claimed notification is
# a worker's before another may retry it, exponential backoff and when to give up,
# and how often silence ("no data") rules are checked.
ALERTS_SEND_TIMEOUT = envfloat("ALERTS_SEND_TIMEOUT", 10)
ALERTS_SEND_LEASE_S = envint("ALERTS_SEND_LEASE_S", 120)
ALERTS_RETRY_BASE_S = envfloat("ALERTS_RETRY_BASE_S", 30)
ALERTS_RETRY_MAX_S = envfloat("ALERTS_RETRY_MAX_S", 3600)
ALERTS_MAX_ATTEMPTS = envint("ALERTS_MAX_ATTEMPTS", 10)
ALERTS_SILENCE_CHECK_S = envfloat("ALERTS_SILENCE_CHECK_S", 30)
# Webhooks go to public addresses only (alerts/webhooks.py, docs/security.md); these
# networks are opened besides, e.g. the LAN of a Home Assistant. Link-local and cloud
# metadata addresses stay refused whatever is listed.
WEBHOOK_ALLOWED_NETWORKS = envnetworks("WEBHOOK_ALLOWED_NETWORKS")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's parsers, with JSON nesting bounded (iotsite/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "iotsite.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "iotsite.exceptions.json_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "iotsite.negotiation.FallbackContentNegotiation",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Counted in the default cache: Redis when REDIS_URL is set, so limits hold across workers.
    "DEFAULT_THROTTLE_CLASSES": [
        "iotsite.throttling.DeviceRateThrottle",
        "iotsite.throttling.UserRateThrottle",
        "iotsite.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "device": envstr("THROTTLE_DEVICE", "600/min"),
        "user": envstr("THROTTLE_USER", "1200/min"),
        "anon": envstr("THROTTLE_ANON", "120/min"),
        # POSTs of the log-in and sign-up pages per address (iotsite/throttling.py).
        "forms": envstr("THROTTLE_FORMS", "30/min"),
    },
    # Proxies in front that append to X-Forwarded-For (1 behind nginx); 0 trusts none.
    "NUM_PROXIES": envint("NUM_PROXIES", 0),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": envseconds("JWT_ACCESS_LIFETIME", timedelta(minutes=30)),
    "REFRESH_TOKEN_LIFETIME": envseconds("JWT_REFRESH_LIFETIME", timedelta(days=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "iotsite API",
    "DESCRIPTION": "Devices, telemetry, live readings and alerts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two "kind" fields with different choices: each gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "AlertRuleKindEnum": "alerts.models.AlertRule.KINDS",
        "NotificationChannelKindEnum": "alerts.models.NotificationChannel.KINDS",
    },
}

# Request limits (413 past them).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("MAX_BODY_BYTES", 5 * 1024 * 1024)
# Multipart bodies (device photos) may be larger; iotsite/request_limits.py.
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)

# Data retention (telemetry/retention.py, `manage.py prune_readings`): readings older
# than this many days go, unless a device sets its own retention_days; 0 keeps all.
RETENTION_DAYS = envint("RETENTION_DAYS", 0)
# Idempotency-Key answers are kept this long for retries to replay.
IDEMPOTENCY_KEEP = envseconds("IDEMPOTENCY_KEEP", timedelta(hours=24))

# Telemetry limits: a batch over TELEMETRY_MAX_BATCH readings or a body over
# TELEMETRY_MAX_BODY_BYTES is a 413; a timestamp further ahead than the margin, a 400.
TELEMETRY_MAX_BATCH = envint("TELEMETRY_MAX_BATCH", 10_000)
TELEMETRY_MAX_BODY_BYTES = envint("TELEMETRY_MAX_BODY_BYTES", 4 * 1024 * 1024)
TELEMETRY_FUTURE_MARGIN = envseconds("TELEMETRY_FUTURE_MARGIN", timedelta(minutes=10))
# Group commit (PostgreSQL): a worker process stores the requests that arrive within
# the window (or until the cap) in one transaction and one statement (telemetry/group_commit.py).
TELEMETRY_GROUP_COMMIT = envbool("TELEMETRY_GROUP_COMMIT", True)
TELEMETRY_GROUP_COMMIT_WINDOW_MS = envfloat("TELEMETRY_GROUP_COMMIT_WINDOW_MS", 1.0)
TELEMETRY_GROUP_COMMIT_MAX_READINGS = envint("TELEMETRY_GROUP_COMMIT_MAX_READINGS", 10_000)
# Device ingest POSTs answered in front of Django's middleware (telemetry/device_route.py),
# and, under ASGI, the threads that answer them (they mostly wait for the group commit).
DEVICE_ROUTE = envbool("DEVICE_ROUTE", True)
DEVICE_ROUTE_THREADS = envint("DEVICE_ROUTE_THREADS", 64)
# Gauge and display photos: size cap, the confidence below which a reading is refused
# rather than stored, and where to keep images (empty: nowhere).
TELEMETRY_MAX_IMAGE_BYTES = envint("TELEMETRY_MAX_IMAGE_BYTES", 8 * 1024 * 1024)
TELEMETRY_IMAGE_MIN_CONFIDENCE = envfloat("TELEMETRY_IMAGE_MIN_CONFIDENCE", 0.5)
TELEMETRY_KEEP_IMAGES_DIR = envstr("TELEMETRY_KEEP_IMAGES_DIR")
# The last photo and overlay of each device whose owner sets config.keep_last_image.
TELEMETRY_LAST_IMAGE_DIR = envstr("TELEMETRY_LAST_IMAGE_DIR") or str(BASE_DIR / "var" / "last-images")

# MQTT (docs/mqtt.md): off unless MQTT_HOST is set. The server's broker account both
# manages device credentials (Mosquitto's dynamic security plugin) and runs mqtt_ingest.
MQTT_HOST = envstr("MQTT_HOST")
MQTT_PORT = envint("MQTT_PORT", 1883)
MQTT_USERNAME = envstr("MQTT_USERNAME", "iotsite")
MQTT_PASSWORD = envstr("MQTT_PASSWORD")
MQTT_DYNSEC_ENABLED = envbool("MQTT_DYNSEC_ENABLED", bool(MQTT_HOST))
MQTT_TIMEOUT = envseconds("MQTT_TIMEOUT", timedelta(seconds=5))
# Each mqtt_ingest worker needs its own stable client id (its persistent session keeps
# the messages it had not yet acknowledged when it stopped); --client-id overrides.
MQTT_CLIENT_ID = envstr("MQTT_CLIENT_ID", "iotsite-ingest-1")
MQTT_SHARE_GROUP = envstr("MQTT_SHARE_GROUP", "iotsite")
MQTT_SESSION_EXPIRY = envseconds("MQTT_SESSION_EXPIRY", timedelta(days=1))
MQTT_RECEIVE_MAXIMUM = envint("MQTT_RECEIVE_MAXIMUM", 2000)
MQTT_BATCH_MESSAGES = envint("MQTT_BATCH_MESSAGES", 1000)

# Talking back to devices (docs/device-communication.md). Attribute values are JSON of
# at most ATTRIBUTE_MAX_VALUE_BYTES, at most ATTRIBUTES_MAX_PER_SCOPE keys per device and
# scope; command params and responses have their own caps. A command without timeout_s
# expires after COMMAND_DEFAULT_TIMEOUT_S; none may wait longer than COMMAND_MAX_TIMEOUT_S.
ATTRIBUTE_MAX_VALUE_BYTES = envint("ATTRIBUTE_MAX_VALUE_BYTES", 8 * 1024)
ATTRIBUTES_MAX_PER_SCOPE = envint("ATTRIBUTES_MAX_PER_SCOPE", 200)
COMMAND_MAX_PARAMS_BYTES = envint("COMMAND_MAX_PARAMS_BYTES", 16 * 1024)
COMMAND_MAX_RESPONSE_BYTES = envint("COMMAND_MAX_RESPONSE_BYTES", 64 * 1024)
COMMAND_DEFAULT_TIMEOUT_S = envint("COMMAND_DEFAULT_TIMEOUT_S", 60)
COMMAND_MAX_TIMEOUT_S = envint("COMMAND_MAX_TIMEOUT_S", 7 * 24 * 3600)
# Finished commands are kept this many days for their history (`manage.py prune_commands`); 0 keeps all.
COMMAND_HISTORY_DAYS = envint("COMMAND_HISTORY_DAYS", 90)
# HTTP long-polls (commands, shared attribute updates) are async views: waiting costs no
# thread under ASGI. A device's requested timeout is capped at DEVICE_LONG_POLL_MAX_S, and
# the database is looked at every DEVICE_LONG_POLL_CHECK_S while it waits.
DEVICE_LONG_POLL_DEFAULT_S = envfloat("DEVICE_LONG_POLL_DEFAULT_S", 20)
DEVICE_LONG_POLL_MAX_S = envfloat("DEVICE_LONG_POLL_MAX_S", 60)
DEVICE_LONG_POLL_CHECK_S = envfloat("DEVICE_LONG_POLL_CHECK_S", 1.0)
# Compatible protocols (docs/protocols.md). The Home Assistant bridge connects to the
# brokers owners enter: public addresses only, as webhooks, plus these networks (the
# LAN of a Home Assistant); link-local and metadata addresses stay refused.
BRIDGE_ALLOWED_NETWORKS = envnetworks("BRIDGE_ALLOWED_NETWORKS")
BRIDGE_RELOAD_INTERVAL = envseconds("BRIDGE_RELOAD_INTERVAL", timedelta(seconds=10))
# Prometheus /metrics: off unless enabled, and then only with METRICS_TOKEN as a bearer
# token (an empty token refuses every request).
METRICS_ENABLED = envbool("METRICS_ENABLED", False)
METRICS_TOKEN = envstr("METRICS_TOKEN")

# LOG_FORMAT=json writes one JSON object per line, each with the request id
# (iotsite/log.py); LOG_REQUESTS adds one line per request (on with JSON logs).
LOG_FORMAT = envstr("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json")
LOG_REQUESTS = envbool("LOG_REQUESTS", LOG_FORMAT == "json")

# Device tokens and JWTs are masked in every line (iotsite/log.py, docs/security.md).
LOGGING_CONFIG = "iotsite.log.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "iotsite.log.RequestIdFilter"}},
    "formatters": {
        "text": {
            "()": "iotsite.log.TextFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "iotsite.log.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO: the simulators of `make run` would drown the server's lines.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
