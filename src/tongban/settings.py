"""Django settings for Tongban.

Every setting comes from the environment, with a safe default for the embedded demo
(SQLite under ``var/``, Huey on SQLite, no outside services). ``docs/deployment.md``
lists the variables a production deployment sets.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("TONGBAN_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# A production deployment sets TONGBAN_SECRET_KEY; the demo key is only for the embedded demo.
DEMO_SECRET_KEY = "tongban-demo-insecure-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env("TONGBAN_SECRET_KEY", DEMO_SECRET_KEY)
DEBUG = env_bool("TONGBAN_DEBUG", False)
ALLOWED_HOSTS = env_list("TONGBAN_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("TONGBAN_CSRF_TRUSTED_ORIGINS")

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "huey.contrib.djhuey",
    "bootstrap",
    "oauth2_provider",
    "mozilla_django_oidc",
    "tongban.core",
    "tongban.identity",
    "tongban.catalog",
    "tongban.exchange",
    "tongban.licences",
    "tongban.workflow",
    "tongban.cases",
    "tongban.messaging",
    "tongban.proactive",
    "tongban.hotline",
    "tongban.supervision",
    "tongban.evaluation",
    "tongban.integrations",
    "tongban.indicators",
    "tongban.enterprise",
    "tongban.portal",
    "tongban.workbench",
    "tongban.api",
    "tongban.demo",
    "tongban.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tongban.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongban.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "tongban.identity.middleware.AuthenticationMiddleware",  # Django's, the session's user read hand-written
    "tongban.identity.middleware.OTPMiddleware",  # django-otp's, its device read hand-written
    "tongban.enterprise.middleware.CertificateSessionMiddleware",  # a revoked certificate ends its sessions
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # AxesMiddleware must be last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: SQLite (WAL) under var/ by default, PostgreSQL through DATABASE_URL.
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL", DEFAULT_SQLITE), conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite with a writers' queue (tongban/core/db/base.py): writers wait in the kernel, not in SQLite's sleeps.
    DATABASES["default"]["ENGINE"] = "tongban.core.db"
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing mid-transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
        ),
    }
    # A file (not :memory:) so that a worker process started by a test sees the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-tongban.sqlite3")}
    # Each web thread keeps its connection between requests, as on PostgreSQL: opening one (the file, the PRAGMAs,
    # Django's functions, SQLite's parse of the schema at the first statement) was about 40 % of a list request's CPU
    # through gunicorn (docs/performance.md). SQLite notices a schema changed by a migration by itself.
    DATABASES["default"]["CONN_MAX_AGE"] = int(env("TONGBAN_DB_CONN_MAX_AGE", "60"))
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = int(env("TONGBAN_DB_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Parameters bound by the server and statements prepared on their second use (psycopg 3): the server parses
    # and plans the hot path's few dozen statements once per connection instead of once per execution (the case
    # bench: +33 % bundles/s, docs/performance.md). TONGBAN_PG_PREPARE_THRESHOLD="" turns both off, e.g. behind a
    # connection pooler in transaction mode that cannot keep prepared statements.
    threshold = env("TONGBAN_PG_PREPARE_THRESHOLD", "2")
    if threshold:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=int(threshold)
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "portal:home"

# Failed-login throttling (django-axes): lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = int(env("TONGBAN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("TONGBAN_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "identity/locked_out.html"
AXES_VERBOSE = False
# The client's address: REMOTE_ADDR unless TONGBAN_PROXY_COUNT trusted proxies stand in front (then the address
# that many hops from the right of X-Forwarded-For). With the default 0, X-Forwarded-For is ignored, so a caller
# cannot pick a new address per request to escape a limit. The API's throttles (NUM_PROXIES) use the same count.
TONGBAN_PROXY_COUNT = int(env("TONGBAN_PROXY_COUNT", "0"))
AXES_IPWARE_PROXY_COUNT = TONGBAN_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TONGBAN_PROXY_COUNT else ("REMOTE_ADDR",)
)
# Password spraying: failed passwords from one address across all user names, within the cool-off, before the
# address may not try again (identity.authentication). Each failure is one row of axes' failure log.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT = int(env("TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT", "20"))

OTP_TOTP_ISSUER = env("TONGBAN_OTP_ISSUER", "Tongban")

# Internationalisation: zh-Hans first, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("TONGBAN_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns at every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The demo and the tests serve static files straight from the apps, with no collectstatic step.
WHITENOISE_USE_FINDERS = env_bool("TONGBAN_STATIC_FROM_APPS", True)
WHITENOISE_AUTOREFRESH = DEBUG
if WHITENOISE_USE_FINDERS:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_ROOT = Path(env("TONGBAN_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# Security: strict in production (TONGBAN_HTTPS=true), relaxed for the demo on http://127.0.0.1.
HTTPS = env_bool("TONGBAN_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(env("TONGBAN_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TONGBAN_BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

SESSION_COOKIE_AGE = int(env("TONGBAN_SESSION_SECONDS", str(8 * 3600)))
X_FRAME_OPTIONS = "DENY"

# Cache (the API's and Open311's rate limits count in it). Shared by every worker process by default, so a limit
# holds however many gunicorn workers serve: files under var/cache/ on the embedded SQLite layout (one machine), the
# database's own table (tongban_cache) on PostgreSQL (several machines); Redis when set. "local" keeps the counts in
# each process (one process only: tests, a single dev server).
CACHE_URL = env("TONGBAN_CACHE_URL", "")
# Sessions in the database, read with one hand-written statement (Django's db backend otherwise).
SESSION_ENGINE = "tongban.core.sessions"
if not CACHE_URL:
    CACHE_URL = "db" if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else "file"
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    # With Redis, sessions are read through it (one query less a request). Never with a per-process cache: a logout
    # or a second-factor check in one process would not be seen by the others.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
elif CACHE_URL == "file":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
elif CACHE_URL == "db":
    # The table is made by a migration (core 00xx_cache_table), so no createcachetable step.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "tongban_cache"}
    }
elif CACHE_URL == "local":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ValueError(f"TONGBAN_CACHE_URL must be file, db, local, redis:// or rediss://, not {CACHE_URL!r}")

# REST API.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "tongban.api.schema.AutoSchema",  # error responses added per view policy
    # DRF's SessionAuthentication handing over the user itself, not its lazy proxies (api.authentication).
    "DEFAULT_AUTHENTICATION_CLASSES": ["tongban.api.authentication.SessionAuthentication"],
    # Every endpoint declares its policy (identity.permissions.RolePermission): none is open by omission.
    "DEFAULT_PERMISSION_CLASSES": ["tongban.identity.permissions.RolePermission"],
    # JSON with a nesting limit (core.parsers): a deeply nested body is a 400, never a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "tongban.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # DRF's JSON written by orjson (api.renderers: the same bytes, a tenth of a list page's CPU less).
    "DEFAULT_RENDERER_CLASSES": [
        "tongban.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "tongban.core.pagination.NumberedPagination",  # ?page_size= 1–100, else a 400
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tongban.api.exceptions.exception_handler",
    # The throttles' client address: REMOTE_ADDR, or the one TONGBAN_PROXY_COUNT hops into X-Forwarded-For.
    "NUM_PROXIES": TONGBAN_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("TONGBAN_API_ANON_RATE", "60/minute"),
        "user": env("TONGBAN_API_USER_RATE", "600/minute"),
        # Ticket intake per client (operators, apps, mini-programs); Open311 has its own per-key limit.
        "tickets": env("TONGBAN_API_TICKET_RATE", "120/minute"),
    },
}
# Applications in JSON carry their materials in base64 (each up to 20 MB, a third larger once encoded): the
# case submission endpoints read JSON bodies up to this size (two materials at the limit); every other request
# keeps Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB). Multipart uploads stream to disk and are not bound by it.
# No JSON the platform takes nests deeper than a few levels; deeper is a 400 parse_error (core.parsers).
TONGBAN_API_JSON_MAX_DEPTH = int(env("TONGBAN_API_JSON_MAX_DEPTH", "32"))
TONGBAN_API_JSON_SUBMISSION_MAX_MB = int(env("TONGBAN_API_JSON_SUBMISSION_MAX_MB", "64"))
# The lists' pages run statements the ORM compiled once per shape, their parameters bound by hand
# (core.db.fast.compiled_rows); with this on, every page also compiles the ORM's and fails on a difference (the
# tests run with it on).
TONGBAN_FAST_SQL_CHECK = env_bool("TONGBAN_FAST_SQL_CHECK", False)
# Material files that no committed case names (a crash between the write and the commit) are swept once
# older than this (cases.files); far longer than any transaction.
TONGBAN_CASE_FILES_GRACE_MINUTES = int(env("TONGBAN_CASE_FILES_GRACE_MINUTES", "60"))
SPECTACULAR_SETTINGS = {
    # Several models have a "status" or "channel"; name their enums apart in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "tongban.cases.models.Case.Status",
        "CaseChannelEnum": "tongban.cases.models.Case.Channel",
        "TaskStateEnum": "tongban.workflow.models.Task.State",
    },
    "TITLE": "Tongban API",
    "DESCRIPTION": "One network for all government services (一网通办).",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Background work: Huey on SQLite by default, on Redis when TONGBAN_QUEUE_URL says redis://.
QUEUE_URL = env("TONGBAN_QUEUE_URL", f"sqlite:///{VAR_DIR / 'huey.sqlite3'}")
if QUEUE_URL.startswith(("redis://", "rediss://")):
    HUEY = {"huey_class": "huey.RedisHuey", "name": env("TONGBAN_QUEUE_NAME", "tongban"), "url": QUEUE_URL}
elif QUEUE_URL.startswith("sqlite:///"):
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": env("TONGBAN_QUEUE_NAME", "tongban"),
        "filename": QUEUE_URL.removeprefix("sqlite:///"),
        # No fsync per queued job (SQLite's synchronous=OFF on the queue's own file): the queue is a prompt, not the
        # record. Every delivery is a row of the main database written with its change (core/events.py), and the
        # sweep every minute runs what a lost job would have run; a crash of the process loses nothing, a power cut
        # at most delays a delivery by a minute. The fsync cost ~2 ms per committed case step.
        "fsync": env_bool("TONGBAN_QUEUE_FSYNC", False),
    }
else:
    raise ValueError(f"TONGBAN_QUEUE_URL must start with redis:// or sqlite:///, not {QUEUE_URL!r}")
HUEY["immediate"] = env_bool("TONGBAN_QUEUE_IMMEDIATE", False)
# max_delay: an idle worker polls at least every 0.5 s (Huey's default backs off to 10 s), so a registry event
# reaches the person's inbox within a second (issue 5's goal).
HUEY["consumer"] = {
    "workers": int(env("TONGBAN_WORKERS", "2")),
    "worker_type": "thread",
    "periodic": True,
    "max_delay": float(env("TONGBAN_WORKER_MAX_DELAY", "0.5")),
}

# Outbox events: retried with exponential backoff (first delay doubled each time) and kept as dead after
# the last attempt. TONGBAN_EVENT_MODULES names extra subscriber modules besides each app's events.py.
TONGBAN_EVENT_MAX_ATTEMPTS = int(env("TONGBAN_EVENT_MAX_ATTEMPTS", "8"))
TONGBAN_EVENT_RETRY_SECONDS = float(env("TONGBAN_EVENT_RETRY_SECONDS", "30"))
# A delivery being run is leased to its worker this long; a worker killed mid-delivery leaves it due again after.
TONGBAN_EVENT_CLAIM_LEASE_SECONDS = float(env("TONGBAN_EVENT_CLAIM_LEASE_SECONDS", "300"))
TONGBAN_EVENT_MODULES = env_list("TONGBAN_EVENT_MODULES")

# Days of the indicators' aggregate rows each web process reads into memory when it starts (``indicators.sums
# .warm``, run by ``tongban.warmup``): a year of Shanghai's is ≈ 100 MB per process; 0 reads them on demand only.
TONGBAN_INDICATORS_WARM_DAYS = int(env("TONGBAN_INDICATORS_WARM_DAYS", "366"))

# Unified social credit codes that are lawful but fail the GB 32100 check (early pilot codes), comma-separated.
TONGBAN_CREDIT_CODE_ALLOWLIST = env_list("TONGBAN_CREDIT_CODE_ALLOWLIST")

# Audit chain: shards and the Ed25519 key that signs checkpoints (PEM text or base64 raw 32 bytes).
TONGBAN_AUDIT_SHARDS = int(env("TONGBAN_AUDIT_SHARDS", "8"))
TONGBAN_AUDIT_SIGNING_KEY = env("TONGBAN_AUDIT_SIGNING_KEY", "")
TONGBAN_AUDIT_SIGNING_KEY_FILE = env("TONGBAN_AUDIT_SIGNING_KEY_FILE", str(VAR_DIR / "audit-signing-key.pem"))
# Retired keys whose checkpoints still verify (base64 raw public keys), and how often a checkpoint is signed.
TONGBAN_AUDIT_TRUSTED_KEYS = env_list("TONGBAN_AUDIT_TRUSTED_KEYS")
# The audit chain's HMAC keys (core.audit_keys) and the witness of its checkpoints (core.audit_witness): both
# outside the database. The demo keeps them under var/; production puts them where the database account (and a
# stolen backup) cannot reach: e.g. /etc/tongban/audit-chain.keys and a separate mount for the witness.
TONGBAN_AUDIT_CHAIN_KEY_FILE = env("TONGBAN_AUDIT_CHAIN_KEY_FILE", str(VAR_DIR / "keys" / "audit-chain.keys"))
TONGBAN_AUDIT_WITNESS = env("TONGBAN_AUDIT_WITNESS", "tongban.core.audit_witness.DirectoryWitness")
TONGBAN_AUDIT_WITNESS_DIR = env("TONGBAN_AUDIT_WITNESS_DIR", str(VAR_DIR / "witness"))
TONGBAN_AUDIT_CHECKPOINT_MINUTES = int(env("TONGBAN_AUDIT_CHECKPOINT_MINUTES", "1"))
if not 1 <= TONGBAN_AUDIT_CHECKPOINT_MINUTES <= 60:
    raise ValueError("TONGBAN_AUDIT_CHECKPOINT_MINUTES must be a whole number of minutes from 1 to 60")

# E-licences: where departments' private signing keys are kept (files, mode 0600), and the algorithm of new keys
# ("ed25519", or "sm2" for SM2 with SM3, the national algorithms). See docs/licences.md.
TONGBAN_LICENCE_KEY_DIR = Path(env("TONGBAN_LICENCE_KEY_DIR", str(VAR_DIR / "licence-keys")))
TONGBAN_LICENCE_ALGORITHM = env("TONGBAN_LICENCE_ALGORITHM", "ed25519")

# 法人一证通 (docs/enterprise.md): the enterprise CA's keys live in this directory, outside the database (like the
# audit chain's key file); certificates' lifetimes; the expiry warning's lead time. Mutual TLS behind a proxy: the
# proxy verifies the client certificate and forwards it (URL-encoded PEM) in TONGBAN_CLIENT_CERT_HEADER, trusted
# only from the addresses in TONGBAN_CLIENT_CERT_TRUSTED_PROXIES (empty header name: the path is off).
TONGBAN_ENTERPRISE_CA_DIR = Path(env("TONGBAN_ENTERPRISE_CA_DIR", str(VAR_DIR / "keys" / "enterprise-ca")))
TONGBAN_ENTERPRISE_CERT_YEARS = int(env("TONGBAN_ENTERPRISE_CERT_YEARS", "3"))
TONGBAN_ENTERPRISE_CERT_WARNING_DAYS = int(env("TONGBAN_ENTERPRISE_CERT_WARNING_DAYS", "30"))
TONGBAN_CLIENT_CERT_HEADER = env("TONGBAN_CLIENT_CERT_HEADER", "")
TONGBAN_CLIENT_CERT_TRUSTED_PROXIES = env_list("TONGBAN_CLIENT_CERT_TRUSTED_PROXIES")

# Messaging (docs/messaging.md): SMS and e-mail gateways, the demo's outbox file, quiet hours and the daily cap.
TONGBAN_SMS_GATEWAY = env("TONGBAN_SMS_GATEWAY", "file")  # file | console | http | a dotted class path
TONGBAN_EMAIL_GATEWAY = env("TONGBAN_EMAIL_GATEWAY", "file")  # file | console | smtp | a dotted class path
TONGBAN_MESSAGE_OUTBOX = Path(env("TONGBAN_MESSAGE_OUTBOX", str(VAR_DIR / "outbox-messages.jsonl")))
TONGBAN_SMS_URL = env("TONGBAN_SMS_URL", "")
TONGBAN_SMS_API_KEY = env("TONGBAN_SMS_API_KEY", "")
TONGBAN_SMS_SIGN = env("TONGBAN_SMS_SIGN", "通办")
TONGBAN_SMS_TIMEOUT = float(env("TONGBAN_SMS_TIMEOUT", "10"))
TONGBAN_SMS_QUIET_HOURS = env("TONGBAN_SMS_QUIET_HOURS", "22:00-08:00")  # Asia/Shanghai; empty: none
TONGBAN_SMS_DAILY_CAP = int(env("TONGBAN_SMS_DAILY_CAP", "5"))
# The platform's public address (https://…): links in SMS and e-mails are made absolute with it (left out without).
TONGBAN_PUBLIC_URL = env("TONGBAN_PUBLIC_URL", "")
TONGBAN_EMAIL_FROM = env("TONGBAN_EMAIL_FROM", "Tongban <noreply@tongban.invalid>")
EMAIL_HOST = env("TONGBAN_SMTP_HOST", "localhost")
EMAIL_PORT = int(env("TONGBAN_SMTP_PORT", "25"))
EMAIL_HOST_USER = env("TONGBAN_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env("TONGBAN_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TONGBAN_SMTP_TLS", False)
EMAIL_TIMEOUT = 10

# SLA clock: when the yellow warning shows, "last-day" (the last working day) or "share:0.8" (80% of the limit).
TONGBAN_SLA_WARNING = env("TONGBAN_SLA_WARNING", "last-day")
# Working-day calendar: how often a process checks whether another one changed the overrides.
TONGBAN_CALENDAR_RECHECK_SECONDS = float(env("TONGBAN_CALENDAR_RECHECK_SECONDS", "60"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("TONGBAN_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "spiff": {"level": "WARNING"}, "jieba": {"level": "WARNING"}},
}

# 12345 hotline: above this routing confidence a ticket goes straight to the department; below, to a dispatcher.
# Unset (the default): the threshold the routing model chose on hand-written calls (precision >= 97%).
TONGBAN_HOTLINE_AUTO_DISPATCH = env("TONGBAN_HOTLINE_AUTO_DISPATCH", "") or None
# Where retraining finds the dispatchers' corrections of the routing.
TONGBAN_HOTLINE_CORRECTIONS_SOURCE = "tongban.hotline.services.corrections_rows"
# Retraining cross-validates the hand-written training calls in this many folds for the calibration and the
# threshold (docs/hotline-routing.md); 0 calibrates on the validation split alone (faster: the test suite).
TONGBAN_HOTLINE_CV_FOLDS = int(env("TONGBAN_HOTLINE_CV_FOLDS", "3"))

# Integrations (docs/integration.md): federated sign-in, API clients, webhooks. All in this one block.
# Federated sign-in (OpenID Connect, mozilla-django-oidc): off unless TONGBAN_OIDC_ISSUER is set. The endpoints
# default to the issuer's usual paths; set them one by one when the provider names them otherwise.
TONGBAN_OIDC_ISSUER = env("TONGBAN_OIDC_ISSUER", "").rstrip("/")
TONGBAN_OIDC_ENABLED = bool(TONGBAN_OIDC_ISSUER)
OIDC_RP_CLIENT_ID = env("TONGBAN_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env("TONGBAN_OIDC_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = env("TONGBAN_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env("TONGBAN_OIDC_SCOPES", "openid profile")
OIDC_OP_AUTHORIZATION_ENDPOINT = env(
    "TONGBAN_OIDC_AUTHORIZATION_ENDPOINT", f"{TONGBAN_OIDC_ISSUER}/authorize/"
)
OIDC_OP_TOKEN_ENDPOINT = env("TONGBAN_OIDC_TOKEN_ENDPOINT", f"{TONGBAN_OIDC_ISSUER}/token/")
OIDC_OP_USER_ENDPOINT = env("TONGBAN_OIDC_USERINFO_ENDPOINT", f"{TONGBAN_OIDC_ISSUER}/userinfo/")
OIDC_OP_JWKS_ENDPOINT = env("TONGBAN_OIDC_JWKS_ENDPOINT", f"{TONGBAN_OIDC_ISSUER}/.well-known/jwks.json")
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_CREATE_USER = True  # only when the person is in the population register (tongban.integrations.oidc)
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/oidc/refused/"
# The claim that carries the resident ID (公民身份号码) and the claim that says the provider verified it.
TONGBAN_OIDC_RESIDENT_ID_CLAIM = env("TONGBAN_OIDC_RESIDENT_ID_CLAIM", "resident_id")
TONGBAN_OIDC_VERIFIED_CLAIM = env("TONGBAN_OIDC_VERIFIED_CLAIM", "resident_id_verified")
if TONGBAN_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "tongban.integrations.oidc.ResidentOIDCBackend"]

# API clients of other departments' systems: OAuth 2 client credentials (django-oauth-toolkit). A scope is a
# resource and an action; a client gets at most the scopes its admin entry allows (tongban.integrations.scopes).
OAUTH2_PROVIDER = {
    "SCOPES": {
        "cases:read": "Read cases of the client's departments and service items",
        "cases:write": "Accept or refuse cases for the client's departments",
        "lookups:read": "Look up registry data under the client department's sharing grants",
        "tickets:read": "Receive 12345 ticket events of the client's departments",
        "tickets:write": "File 12345 tickets",
        "licences:read": "Receive e-licence events",
    },
    "DEFAULT_SCOPES": ["cases:read"],
    "SCOPES_BACKEND_CLASS": "tongban.integrations.scopes.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "tongban.integrations.scopes.ClientValidator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(env("TONGBAN_API_TOKEN_SECONDS", "3600")),
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named for the migrations' dependency
# Requests per client unless its admin entry says otherwise ("N/second|minute|hour|day").
TONGBAN_API_CLIENT_RATE = env("TONGBAN_API_CLIENT_RATE", "600/minute")
# Webhooks: attempts before a delivery is dead, the first retry delay (doubled each time), the HTTP timeout,
# and after how many failures in a row a subscriber is flagged as failing (and the admins are told).
TONGBAN_WEBHOOK_MAX_ATTEMPTS = int(env("TONGBAN_WEBHOOK_MAX_ATTEMPTS", "8"))
TONGBAN_WEBHOOK_RETRY_SECONDS = float(env("TONGBAN_WEBHOOK_RETRY_SECONDS", "30"))
TONGBAN_WEBHOOK_TIMEOUT = float(env("TONGBAN_WEBHOOK_TIMEOUT", "10"))
TONGBAN_WEBHOOK_ALERT_AFTER = int(env("TONGBAN_WEBHOOK_ALERT_AFTER", "5"))
