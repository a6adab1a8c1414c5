"""Settings for Publish MDM, read from the environment (12-factor).

Every variable is documented in the README with its default. The defaults run
the whole product on one machine with nothing else installed: when
``DATABASE_URL`` is unset, ``control_plane.embedded_db`` has started a private
PostgreSQL under ``.data/`` and exported its URL before Django loads this file.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

from control_plane import logging_setup

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_DIR = REPO_ROOT

env = environ.Env()

ENVIRONMENT = env.str("ENVIRONMENT", default="development")
IS_PRODUCTION = ENVIRONMENT == "production"
DEBUG = env.bool("DEBUG", default=False)
DATA_DIR = Path(env.str("DATA_DIR", default=str(REPO_ROOT / ".data")))

_INSECURE_PREFIX = "django-insecure"


def _development_secret_key() -> str:
    """A random key kept under DATA_DIR so sessions survive restarts."""
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = f"{_INSECURE_PREFIX}-dev-{secrets.token_urlsafe(48)}"
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()
if IS_PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when ENVIRONMENT=production.")
    if SECRET_KEY.startswith(_INSECURE_PREFIX) or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY is insecure: set a random value of at least 50 characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )

BASE_DOMAIN = env.str("BASE_DOMAIN", default="publishmdm.localhost").lower()
PUBLIC_SCHEME = env.str("PUBLIC_SCHEME", default="https" if IS_PRODUCTION else "http")
PUBLIC_PORT = env.int("PUBLIC_PORT", default=0 if IS_PRODUCTION else 8000)
# Unknown hosts are answered 404 by the tenant routing middleware, which knows
# every organization's domains; Django's own check would have to be kept in
# sync with the Domain table.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

SHARED_APPS = [
    "django_tenants",
    "control_plane.organizations",
    "control_plane.accounts",
    "control_plane.billing",
    "control_plane.runtime",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "procrastinate.contrib.django",
    "frontend",
    "django_htmx",
    "social_django",
    "realtime",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "tenants.audit",
    "tenants.secretstore",
    "tenants.publishing",
]
INSTALLED_APPS = list(dict.fromkeys(SHARED_APPS + TENANT_APPS))

TENANT_MODEL = "organizations.Organization"
TENANT_DOMAIN_MODEL = "organizations.Domain"
PUBLIC_SCHEMA_NAME = "public"
TENANT_SCHEMA_PREFIX = "org_"
SPARE_SCHEMA_PREFIX = "spare_"
SPARE_POOL_SIZE = env.int("SPARE_POOL_SIZE", default=3)
MIGRATION_PARALLELISM = env.int("MIGRATION_PARALLELISM", default=2)
# One `SET search_path` per connection and tenant instead of one per query (the
# API benchmark: routing cost 27% → 7.5%). Safe with this django-tenants: the
# cached path is forgotten on set_tenant, close, rollback and savepoint
# rollback, and every request, socket handler and job calls set_tenant first.
TENANT_LIMIT_SET_CALLS = env.bool("TENANT_LIMIT_SET_CALLS", default=True)
TENANT_MULTIPROCESSING_MAX_PROCESSES = MIGRATION_PARALLELISM
TENANT_MULTIPROCESSING_CHUNKS = 2
ORGANIZATION_ARCHIVE_GRACE_DAYS = env.int("ORGANIZATION_ARCHIVE_GRACE_DAYS", default=30)

AUTH_USER_MODEL = "accounts.User"
# Emails are unique case-insensitively through a functional unique index on
# lower(email), which Django's check does not recognise.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    "control_plane.accounts.backends.EmailBackend",
    # Sign in with Google (frontend.google_auth); answers only when GOOGLE_CLIENT_ID is set.
    "social_core.backends.google.GoogleOAuth2",
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/organizations/"

MIDDLEWARE = [
    "control_plane.middleware.RequestIdMiddleware",
    "control_plane.middleware.TenantRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "frontend.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "control_plane.middleware.TenantMembershipMiddleware",
    "control_plane.middleware.LogContextMiddleware",
]

ROOT_URLCONF = "control_plane.tenant_urls"
PUBLIC_SCHEMA_URLCONF = "control_plane.urls"
WSGI_APPLICATION = "control_plane.wsgi.application"
ASGI_APPLICATION = "control_plane.asgi.application"

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
                "frontend.context.workspace",
            ],
        },
    }
]

# Database -------------------------------------------------------------------
# control_plane.embedded_db exports DATABASE_URL when it starts the embedded
# server, so this module never has to know which one is in use.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/publishmdm")
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# A Unix-socket directory arrives percent-encoded in the URL's host part.
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST", ""))
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="") or None}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

# Sessions and security --------------------------------------------------------
# One session cookie for the base domain and every organization's subdomain,
# so a member of several organizations switches without logging in again.
SESSION_COOKIE_DOMAIN = env.str("SESSION_COOKIE_DOMAIN", default=BASE_DOMAIN) or None
CSRF_COOKIE_DOMAIN = SESSION_COOKIE_DOMAIN
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=IS_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS",
    default=[f"{PUBLIC_SCHEME}://*.{BASE_DOMAIN}" + (f":{PUBLIC_PORT}" if PUBLIC_PORT else "")],
)
# Behind a TLS-terminating proxy, the header it sets to say the browser used
# https (empty: no proxy, trust the connection itself). SSL redirect and HSTS
# read the scheme through it; /healthz stays reachable over plain http for
# load-balancer probes.
_PROXY_SSL_HEADER = env.str(
    "SECURE_PROXY_SSL_HEADER", default="X-Forwarded-Proto" if IS_PRODUCTION else ""
).strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz(/|$)"]
# HSTS: browsers keep to https for this long, on every organization's subdomain too.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)

# Email ------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
vars().update(env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"Publish MDM <noreply@{BASE_DOMAIN}>")

# Static files and storage -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
if not IS_PRODUCTION:
    # Development serves static files from the apps (WHITENOISE_USE_FINDERS; `serve`
    # also collects them). An existing folder keeps WhiteNoise from warning, on every
    # middleware start, that collectstatic never ran; in production that warning stays.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
S3_BUCKET = env.str("S3_BUCKET", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if S3_BUCKET:
    # Organizations' files go to S3 under tenants/<schema>/ (control_plane.storage);
    # downloads redirect to presigned URLs valid for S3_URL_EXPIRY seconds.
    from control_plane.s3 import s3_storage

    try:
        STORAGES["default"] = s3_storage(
            bucket=S3_BUCKET,
            endpoint_url=env.str("S3_ENDPOINT_URL", default=""),
            region=env.str("S3_REGION", default=""),
            access_key=env.str("S3_ACCESS_KEY_ID", default=""),
            secret_key=env.str("S3_SECRET_ACCESS_KEY", default=""),
            url_expiry=env.int("S3_URL_EXPIRY", default=300),
            addressing_style=env.str("S3_ADDRESSING_STYLE", default="auto"),
        )
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from exc
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Secrets (tenants.secretstore, DESIGN.md §6; documented in docs/secrets.md) -------
# Each organization's credentials live in its own store: "local" (encrypted in
# its schema with a key derived from SECRETS_MASTER_KEYS) or "infisical" (a
# project of its own). SECRET_STORE_BACKEND is what new organizations get.
SECRET_STORE_BACKEND = env.str("SECRET_STORE_BACKEND", default="local")
if SECRET_STORE_BACKEND not in ("local", "infisical"):
    raise ImproperlyConfigured("SECRET_STORE_BACKEND must be 'local' or 'infisical'.")


def _development_secrets_master_key() -> str:
    """A random master key kept under DATA_DIR, like the development SECRET_KEY."""
    import base64

    path = DATA_DIR / "secrets_master_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    path.write_text(key)
    path.chmod(0o600)
    return key


# Comma-separated; new writes use the first, the others only decrypt (rotation).
SECRETS_MASTER_KEYS = env.list("SECRETS_MASTER_KEYS", default=[])
if not SECRETS_MASTER_KEYS:
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            "SECRETS_MASTER_KEYS is required in production (see docs/secrets.md)."
        )
    SECRETS_MASTER_KEYS = [_development_secrets_master_key()]
SECRET_STORE_CACHE_TTL = env.float("SECRET_STORE_CACHE_TTL", default=15.0)
INFISICAL_URL = env.str("INFISICAL_URL", default="https://app.infisical.com")
INFISICAL_CLIENT_ID = env.str("INFISICAL_CLIENT_ID", default="")
INFISICAL_CLIENT_SECRET = env.str("INFISICAL_CLIENT_SECRET", default="")
INFISICAL_ENVIRONMENT = env.str("INFISICAL_ENVIRONMENT", default="publishmdm")
INFISICAL_PROJECT_PREFIX = env.str("INFISICAL_PROJECT_PREFIX", default="pmdm")
INFISICAL_TIMEOUT = env.float("INFISICAL_TIMEOUT", default=5.0)
INFISICAL_READ_RETRIES = env.int("INFISICAL_READ_RETRIES", default=2)
INFISICAL_RETRY_BACKOFF = env.float("INFISICAL_RETRY_BACKOFF", default=0.5)
if (
    IS_PRODUCTION
    and SECRET_STORE_BACKEND == "infisical"  # noqa: S105 - a backend name
    and not (INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET)
):
    raise ImproperlyConfigured(
        "SECRET_STORE_BACKEND=infisical needs INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET."
    )

# Client addresses and web rate limits (control_plane.client_address, ratelimits) ---
# X-Forwarded-For is believed only from these proxies (addresses or networks,
# e.g. "10.0.0.0/8"); by default from nobody, so the TCP peer is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Failed logins per client address, and per account: after LOGIN_LOCKOUT_AFTER
# failures in a row each further one locks the account for twice as long as the
# last (LOGIN_LOCKOUT_SECONDS, doubling, at most LOGIN_LOCKOUT_MAX_SECONDS).
RATE_LIMIT_LOGIN_ADDRESS = env.str("RATE_LIMIT_LOGIN_ADDRESS", default="30/hour")
LOGIN_LOCKOUT_AFTER = env.int("LOGIN_LOCKOUT_AFTER", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=60)
LOGIN_LOCKOUT_MAX_SECONDS = env.int("LOGIN_LOCKOUT_MAX_SECONDS", default=3600)
RATE_LIMIT_PASSWORD_RESET_ADDRESS = env.str("RATE_LIMIT_PASSWORD_RESET_ADDRESS", default="10/hour")
RATE_LIMIT_PASSWORD_RESET_ACCOUNT = env.str("RATE_LIMIT_PASSWORD_RESET_ACCOUNT", default="3/hour")
RATE_LIMIT_INVITATION_ADDRESS = env.str("RATE_LIMIT_INVITATION_ADDRESS", default="30/hour")
# Web signup shares the API's signup budget (API_THROTTLE_SIGNUP) per address.

# Outbound HTTP (control_plane.outbound, DESIGN.md §6) ---------------------------
# Every outbound client connects only to public addresses, checked when each
# connection opens; these host:port pairs may resolve to internal addresses
# (an on-premises Infisical or MDM server). Central has its own list below.
OUTBOUND_ALLOWED_INTERNAL_HOSTS = env.list("OUTBOUND_ALLOWED_INTERNAL_HOSTS", default=[])
# Dotted path of a resolver ``(host, port) -> [addresses]`` replacing the
# system's (tests use a fake DNS); empty in every real deployment.
OUTBOUND_RESOLVER = env.str("OUTBOUND_RESOLVER", default="")

# Publishing (ODK Central, Google) ------------------------------------------------
# host:port pairs that may be private addresses (an on-premises Central); all
# other Central URLs resolving to internal addresses are refused (SSRF).
CENTRAL_ALLOWED_INTERNAL_HOSTS = env.list("CENTRAL_ALLOWED_INTERNAL_HOSTS", default=[])
# Plain http is refused unless DEBUG (or this, for an on-premises test server).
CENTRAL_ALLOW_HTTP = env.bool("CENTRAL_ALLOW_HTTP", default=False)
CENTRAL_TIMEOUT = env.float("CENTRAL_TIMEOUT", default=10.0)
CENTRAL_MAX_CONCURRENCY = env.int("CENTRAL_MAX_CONCURRENCY", default=8)
# One Central session per organization, server and account is kept per process and
# shared by its jobs: renewed this long before it expires, logged out after this long
# unused (and at exit, on credential change and on server delete).
CENTRAL_SESSION_REFRESH_SECONDS = env.float("CENTRAL_SESSION_REFRESH_SECONDS", default=600.0)
CENTRAL_SESSION_IDLE_SECONDS = env.float("CENTRAL_SESSION_IDLE_SECONDS", default=900.0)
PUBLISH_POOL_SIZE = env.int("PUBLISH_POOL_SIZE", default=8)
# Workbooks (.xlsx: uploads, Google exports, imports) are measured before they
# are opened (control_plane.archives): zip bombs are refused.
XLSX_MAX_UNPACKED_BYTES = env.int("XLSX_MAX_UNPACKED_BYTES", default=50 * 1024 * 1024)
XLSX_MAX_MEMBERS = env.int("XLSX_MAX_MEMBERS", default=1000)
XLSX_MAX_RATIO = env.float("XLSX_MAX_RATIO", default=200.0)
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET", default="")
GOOGLE_DRIVE_API_URL = env.str("GOOGLE_DRIVE_API_URL", default="https://www.googleapis.com")
GOOGLE_OAUTH_TOKEN_URL = env.str(
    "GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token"
)
GOOGLE_TIMEOUT = env.float("GOOGLE_TIMEOUT", default=20.0)
# Google Picker (choose a sheet in the template form) also needs a browser API key
# and the Cloud project number; without them the form takes a pasted sheet URL.
GOOGLE_PICKER_API_KEY = env.str("GOOGLE_PICKER_API_KEY", default="")
GOOGLE_APP_ID = env.str("GOOGLE_APP_ID", default="")
# Sign in with Google (social-auth-app-django): drive.file lets us export the
# sheets a person picks; offline access gives the refresh token publishing uses,
# kept in the organization's secret store (frontend.google_auth), never in tables.
SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = GOOGLE_CLIENT_ID
SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = GOOGLE_CLIENT_SECRET
SOCIAL_AUTH_GOOGLE_OAUTH2_SCOPE = ["https://www.googleapis.com/auth/drive.file"]
SOCIAL_AUTH_GOOGLE_OAUTH2_AUTH_EXTRA_ARGUMENTS = {"access_type": "offline", "prompt": "consent"}
SOCIAL_AUTH_URL_NAMESPACE = "social"
SOCIAL_AUTH_USER_FIELDS = ["email", "full_name"]
SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/auth/done/"
SOCIAL_AUTH_LOGIN_ERROR_URL = "/login/"
SOCIAL_AUTH_REDIRECT_IS_HTTPS = IS_PRODUCTION
SOCIAL_AUTH_PIPELINE = [
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    # Safe with Google, whose backend refuses addresses Google has not verified.
    "social_core.pipeline.social_auth.associate_by_email",
    "frontend.google_auth.create_user",
    "social_core.pipeline.social_auth.associate_user",
    # Instead of load_extra_data (which would keep tokens in a public table).
    "frontend.google_auth.store_refresh_token",
    "social_core.pipeline.user.user_details",
]

# Background jobs (Procrastinate, DESIGN.md §4) ---------------------------------
# Tasks live in each app's tasks.py and are discovered by the Django contrib app.
# Workers send a heartbeat; the jobs of a worker silent for WORKER_STALLED_SECONDS
# (killed, machine lost) go back to the queue for another worker
# (control_plane.runtime.tasks, checked every WORKER_STALLED_CHECK_SECONDS).
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=10.0)
WORKER_STALLED_SECONDS = env.float("WORKER_STALLED_SECONDS", default=30.0)
WORKER_STALLED_CHECK_SECONDS = env.int("WORKER_STALLED_CHECK_SECONDS", default=30)
if not 1 <= WORKER_STALLED_CHECK_SECONDS <= 59:
    raise ImproperlyConfigured("WORKER_STALLED_CHECK_SECONDS must be between 1 and 59.")
if WORKER_HEARTBEAT_SECONDS * 2 > WORKER_STALLED_SECONDS:
    # A live worker that misses one beat must not look dead (its jobs would run twice).
    raise ImproperlyConfigured(
        "WORKER_STALLED_SECONDS must be at least twice WORKER_HEARTBEAT_SECONDS."
    )
PROCRASTINATE_WORKER_DEFAULTS = {
    "concurrency": env.int("WORKER_CONCURRENCY", default=4),
    "update_heartbeat_interval": WORKER_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": WORKER_STALLED_SECONDS,
}

# Realtime (Channels, DESIGN.md §5; documented in docs/realtime.md) --------------
# With REDIS_URL: channels-redis' pub/sub layer (one PUBLISH per group send,
# pushed to each server process, which fans out to its own sockets), or its
# list-based "core" layer with REALTIME_REDIS_LAYER=core. Without Redis, sockets'
# groups live in the server process and group sends from any process (the job
# worker included) travel through PostgreSQL LISTEN/NOTIFY.
REALTIME_CHANNEL_PREFIX = env.str("REALTIME_CHANNEL_PREFIX", default="pmdm")
# One rule for every layer, checked now rather than on the first socket: the
# prefix names a PostgreSQL LISTEN channel in embedded mode (and a Redis key
# prefix otherwise), so a deployment can switch layers without renaming it.
REALTIME_CHANNEL_PREFIX_PATTERN = r"[a-z_][a-z0-9_]{0,40}"
if not re.fullmatch(REALTIME_CHANNEL_PREFIX_PATTERN, REALTIME_CHANNEL_PREFIX):
    raise ImproperlyConfigured(
        f"REALTIME_CHANNEL_PREFIX={REALTIME_CHANNEL_PREFIX!r} is not allowed: use 1 to 41 "
        "characters among lowercase letters a-z, digits 0-9 and underscores (_), "
        "not starting with a digit (e.g. 'pmdm' or 'pmdm_staging')."
    )
REALTIME_REDIS_LAYER = env.str("REALTIME_REDIS_LAYER", default="pubsub")
_CHANNEL_CAPACITY = env.int("REALTIME_CHANNEL_CAPACITY", default=1000)
# redis-py 8 times reads out after 5 s by default, exactly when channels-redis'
# 5 s blocking pop returns: allow longer reads.
_REDIS_HOSTS = [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}]
if not REDIS_URL:
    _CHANNEL_LAYER = {
        "BACKEND": "realtime.layers.PostgresChannelLayer",
        "CONFIG": {"channel": REALTIME_CHANNEL_PREFIX, "capacity": _CHANNEL_CAPACITY},
    }
elif REALTIME_REDIS_LAYER == "core":
    _CHANNEL_LAYER = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": _REDIS_HOSTS,
            "prefix": REALTIME_CHANNEL_PREFIX,
            "capacity": _CHANNEL_CAPACITY,
        },
    }
elif REALTIME_REDIS_LAYER == "pubsub":
    _CHANNEL_LAYER = {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": _REDIS_HOSTS, "prefix": REALTIME_CHANNEL_PREFIX},
    }
else:
    raise ImproperlyConfigured("REALTIME_REDIS_LAYER must be 'pubsub' or 'core'.")
CHANNEL_LAYERS = {"default": _CHANNEL_LAYER}
REALTIME_MAX_MESSAGE_BYTES = env.int("REALTIME_MAX_MESSAGE_BYTES", default=4096)
REALTIME_MAX_SUBSCRIPTIONS = env.int("REALTIME_MAX_SUBSCRIPTIONS", default=50)
REALTIME_TICKET_TTL = env.int("REALTIME_TICKET_TTL", default=30)
REALTIME_REVALIDATE_SECONDS = env.int("REALTIME_REVALIDATE_SECONDS", default=60)

# REST API (api/, docs/api.md) ------------------------------------------------------
# The tenant API lives at /api/v1/ on each organization's host; the control-plane
# API on the base host. Everything below is shared by both; views override
# authentication and permissions where their host needs others.
# The server refuses larger bodies with 413 before reading them
# (control_plane.runtime.server): MAX_REQUEST_BYTES on the paths that take
# file uploads, the other on every other path. Finer limits below answer the
# bodies in between.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=20 * 1024 * 1024)
MAX_REQUEST_BYTES_NON_UPLOAD = env.int("MAX_REQUEST_BYTES_NON_UPLOAD", default=3 * 1024 * 1024)
API_MAX_JSON_BYTES = env.int("API_MAX_JSON_BYTES", default=1024 * 1024)
# Deeper JSON (API bodies on both hosts, socket frames) is a 400 parse_error
# before the parser recurses into it (control_plane.safejson).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)
# Multipart bodies (a 10 MB workbook plus form fields and boundaries).
API_MAX_UPLOAD_BYTES = env.int("API_MAX_UPLOAD_BYTES", default=12 * 1024 * 1024)
# Non-file request data Django will hold in memory (forms and request.body).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2621440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)
API_IDEMPOTENCY_TTL = env.int("API_IDEMPOTENCY_TTL", default=86400)
# Throttle counters: a process-local cache by default; point API_CACHE_URL at
# Redis (redis://...) so that limits hold across processes and machines.
API_THROTTLE_CACHE = "api"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": env.cache_url("API_CACHE_URL", default="locmemcache://api-throttle"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.common.authentication.ApiTokenAuthentication",
        "api.common.authentication.SessionAuthentication",
    ],
    # Closed by default: on the base host (no organization) this answers 404.
    "DEFAULT_PERMISSION_CLASSES": ["api.common.permissions.TenantRolePermission"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.common.throttling.TokenRateThrottle",
        "api.common.throttling.UserRateThrottle",
        "api.common.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_TOKEN", default="1200/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        # Control-plane API (api.control): per platform token, and public
        # signup per client address (each signup creates an account and a schema).
        "platform_token": env.str("API_THROTTLE_PLATFORM_TOKEN", default="1200/min"),
        "signup": env.str("API_THROTTLE_SIGNUP", default="10/hour"),
    },
    "DEFAULT_PAGINATION_CLASS": "api.common.pagination.KeysetCursorPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "api.common.filters.ApiOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.common.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.common.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.common.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Publish MDM API",
    "DESCRIPTION": (
        "The organization API, served on each organization's own host at `/api/v1/`. "
        "Authenticate with an API token (`Authorization: Bearer pmdm_...`) or, from the "
        "browser, with your session and the CSRF header. See docs/api.md for conventions: "
        "errors, cursor pagination, ETag/If-Match, Idempotency-Key and rate limits."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs pages are served by api.tenant.urls on organization
    # hosts (members only) and by the control-plane URLs on the base host, each
    # with its own urlconf; /api/v<n>/ is the common prefix of operations.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    # No online validator badge: it would send the document's address to swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "control_plane.accounts.roles.Role",
        "RunStatusEnum": "tenants.publishing.models.RunStatus",
        "ItemStatusEnum": "tenants.publishing.models.ItemStatus",
        "SourceKindEnum": "tenants.publishing.models.SourceKind",
        "VariableTransformEnum": "tenants.publishing.models.VariableTransform",
        # Control-plane API (api.control).
        "OrganizationStatusEnum": "control_plane.organizations.models.OrganizationStatus",
        "ProvisioningStepStatusEnum": ["pending", "running", "done", "failed"],
        "InvitationStatusEnum": ["open", "accepted", "revoked", "expired"],
    },
}

# Logging and errors -------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "console")
LOGGING_CONFIG = None
logging_setup.configure(level=LOG_LEVEL, fmt=LOG_FORMAT)

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    logging_setup.init_sentry(
        dsn=SENTRY_DSN,
        environment=ENVIRONMENT,
        send_default_pii=env.bool("SENTRY_SEND_PII", default=False),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
