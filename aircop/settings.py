"""aircop settings: one module, driven by the environment.

No environment at all gives the embedded default (SQLite, in-memory channel
layer, eager Celery, console e-mail) so that ``make run`` works on a bare
machine. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to
channels_redis and Celery over Redis. ``AIRCOP_PRODUCTION=1`` refuses to start
without its secrets. Every variable is listed in ``.env.example``.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of the embedded default (SQLite file, generated secret key);
# never committed (see .gitignore).
LOCAL_DIR = Path(os.environ.get("AIRCOP_LOCAL_DIR", BASE_DIR / ".local"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env_bool("AIRCOP_PRODUCTION")
# The embedded default: no production flag, no external service. Only there is DEBUG on by
# default; production refuses it (tracebacks would show personal data).
EMBEDDED = not (PRODUCTION or os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"))
DEBUG = env_bool("DJANGO_DEBUG", default=EMBEDDED)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when AIRCOP_PRODUCTION=1.")


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when AIRCOP_PRODUCTION=1.")
    # Embedded default: one random key generated once into a local file.
    path = LOCAL_DIR / "secret_key"
    if not path.exists():
        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Former keys, still accepted after a rotation (sessions, signed values, channel-layer events).
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", "")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when AIRCOP_PRODUCTION=1.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "channels",
    "ninja",
    "django_countries",
    "accounts",
    "messaging",
    "seizures",
]

MIDDLEWARE = [
    # First: every request gets its id, and the health checks answer before host validation
    # and the HTTPS redirect (a probe from inside the container sends neither).
    "aircop.request_id.RequestIdMiddleware",
    "aircop.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "aircop.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.PreferredLanguageMiddleware",
    "accounts.presence.LastSeenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: ends an unverified or timed-out session (with a notice), then every view
    # not marked login_not_required needs a signed-in (hence verified) user.
    "accounts.middleware.SessionPolicyMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lockout into the login page's answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aircop.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "messaging.context_processors.unread",
                "accounts.context_processors.administration",
            ],
        },
    },
]

ASGI_APPLICATION = "aircop.asgi.application"

# --- Database ---------------------------------------------------------------
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # psycopg 3's pool: ASGI threads borrow a connection instead of opening one each time.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": int(os.environ.get("AIRCOP_DB_POOL_MAX", "20")),
            "timeout": 10,
        }
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL must be set when AIRCOP_PRODUCTION=1.")
else:
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("AIRCOP_SQLITE_PATH", str(LOCAL_DIR / "aircop.sqlite3")),
            # A file, not memory, so that an ASGI server started by a test
            # (browser tier) sees the test database.
            "TEST": {
                # One file per test process, so that two test runs never share it.
                "NAME": os.environ.get(
                    "AIRCOP_SQLITE_TEST_PATH", str(LOCAL_DIR / f"test-{os.getpid()}.sqlite3")
                )
            },
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Channel layer and Celery -----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# AIRCOP_CHANNEL_LAYER: "core" (RedisChannelLayer, receiving in batches: aircop/channel_layer.py;
# the default) or "pubsub" (RedisPubSubChannelLayer); docs/performance.md compares them. Capacity
# and expiry bound what a slow consumer can queue (core only); delivery never depends on them:
# clients resume from the database.
CHANNEL_LAYER_BACKENDS = {
    "core": "aircop.channel_layer.BatchingRedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
if REDIS_URL:
    _layer = os.environ.get("AIRCOP_CHANNEL_LAYER", "core")
    if _layer not in CHANNEL_LAYER_BACKENDS:
        raise ImproperlyConfigured("AIRCOP_CHANNEL_LAYER must be core or pubsub.")
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": CHANNEL_LAYER_BACKENDS[_layer],
            "CONFIG": {
                # redis-py 8 times socket reads out after 5 s, the channel layer's own blocking
                # read time: idle consumers would die. Its default pool (100) is too small for
                # bursts of joins, leaves and broadcasts.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 1000}],
                # Events carry subjects and names: sealed (Fernet: AES + HMAC) before they reach
                # Redis, opened in the receiving process. Every process shares SECRET_KEY; the
                # fallbacks still open what was sealed before a rotation.
                "symmetric_encryption_keys": [SECRET_KEY, *SECRET_KEY_FALLBACKS],
            },
        }
    }
    if _layer == "core":
        CHANNEL_LAYERS["default"]["CONFIG"].update(
            capacity=int(os.environ.get("AIRCOP_CHANNEL_CAPACITY", "1500")),
            expiry=int(os.environ.get("AIRCOP_CHANNEL_EXPIRY", "60")),
        )
elif PRODUCTION:
    raise ImproperlyConfigured("REDIS_URL must be set when AIRCOP_PRODUCTION=1.")
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache holds the rate-limit counters (aircop/ratelimit.py): shared by every process
# through Redis when there is one, in this process's memory in the embedded default.
if REDIS_URL:
    _cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("AIRCOP_CACHE_PREFIX", "aircop"),
    }
else:
    _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
CACHES = {
    "default": {**_cache},
    "ratelimit": {**_cache, **({} if REDIS_URL else {"LOCATION": "ratelimit"})},
}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The queue the tasks go to (the integration tier gives its worker a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("AIRCOP_CELERY_QUEUE", "celery")
# Task modules outside the apps' ``tasks.py`` (which autodiscover_tasks finds by itself).
CELERY_IMPORTS = ["accounts.hygiene_tasks"]
# Beat: the periodic scans. Each enqueues one idempotent task per item (see docs/architecture.md).
AIRCOP_ALERT_REMINDER_SCAN_SECONDS = int(os.environ.get("AIRCOP_ALERT_REMINDER_SCAN_SECONDS", "60"))
AIRCOP_DIGEST_PERIOD_MINUTES = int(os.environ.get("AIRCOP_DIGEST_PERIOD_MINUTES", "60"))
CELERY_BEAT_SCHEDULE = {
    "alert-reminders": {
        "task": "messaging.alert_reminders_enqueue",
        "schedule": AIRCOP_ALERT_REMINDER_SCAN_SECONDS,
    },
    "unread-digests": {
        "task": "messaging.digests_enqueue",
        "schedule": AIRCOP_DIGEST_PERIOD_MINUTES * 60,
    },
    "account-hygiene": {"task": "accounts.account_hygiene_enqueue", "schedule": 3600},
    "expired-exports": {"task": "seizures.export_jobs_expire", "schedule": 3600},
    # Operations become active on their start date and are closed after their end date.
    "operations-advance": {
        "task": "accounts.operations_advance",
        "schedule": crontab(minute="*/15"),
    },
}

# --- E-mail -------------------------------------------------------------------
EMAIL_BACKEND_PATH = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("DJANGO_EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("DJANGO_EMAIL_PORT", "587")),
        "username": os.environ.get("DJANGO_EMAIL_USER", ""),
        "password": os.environ.get("DJANGO_EMAIL_PASSWORD", ""),
        "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", True),
    }
elif EMAIL_BACKEND_PATH.endswith("filebased.EmailBackend"):
    # One file per e-mail in a directory (the integration tier reads them).
    MAILERS["default"]["OPTIONS"] = {
        "file_path": os.environ.get("DJANGO_EMAIL_FILE_PATH", str(LOCAL_DIR / "mail"))
    }
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "aircop <noreply@localhost>")

# --- Authentication ---------------------------------------------------------------
# Passwords: Argon2 first; older hashes (PBKDF2 of the demo users) still verify and are
# re-hashed with Argon2 at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes watches every authentication; it must come first. Blocked and deactivated users
# cannot sign in, nor keep a session (accounts.backends).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AccountBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
# A session ends after 30 minutes without a request, and 12 hours after login whatever the
# activity (accounts.middleware.SessionPolicyMiddleware); the cookie lives no longer.
AIRCOP_SESSION_IDLE_SECONDS = int(os.environ.get("AIRCOP_SESSION_IDLE_SECONDS", "1800"))
AIRCOP_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("AIRCOP_SESSION_ABSOLUTE_SECONDS", "43200"))
SESSION_COOKIE_AGE = AIRCOP_SESSION_ABSOLUTE_SECONDS
# Between the password and the second factor: how long the half-done login waits.
AIRCOP_LOGIN_PENDING_SECONDS = 600

# Second factor (django-otp): TOTP, mandatory for every user, with single-use recovery codes.
OTP_TOTP_ISSUER = os.environ.get("AIRCOP_OTP_ISSUER", "aircop")
AIRCOP_RECOVERY_CODES = 10

# Brute force (django-axes): 5 failures (a wrong password or a wrong second-factor code) lock
# the username and, separately, the client address, for the cool-off time. The address is
# REMOTE_ADDR: behind the proxy, daphne --proxy-headers sets it from X-Forwarded-For.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AIRCOP_LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.login_views.locked_out"
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

# Account hygiene: an account unused this many days is blocked, after one reminder this many
# days before.
AIRCOP_ACCOUNT_IDLE_BLOCK_DAYS = int(os.environ.get("AIRCOP_ACCOUNT_IDLE_BLOCK_DAYS", "90"))
AIRCOP_ACCOUNT_IDLE_REMINDER_DAYS = int(os.environ.get("AIRCOP_ACCOUNT_IDLE_REMINDER_DAYS", "10"))
# A signed-in user's last activity (request or websocket) is written at most this often.
AIRCOP_LAST_SEEN_EVERY_SECONDS = 60

# Requests an ASGI process runs at once (their middleware and views, each in a thread); the next
# wait on its event loop (aircop/asgi_handler.py).
AIRCOP_REQUESTS_IN_FLIGHT = int(os.environ.get("AIRCOP_REQUESTS_IN_FLIGHT", "8"))

# ASGI processes log a warning for each garbage collection that holds them longer than this
# (aircop/gc_pauses.py); 0: never.
AIRCOP_GC_PAUSE_WARNING_MS = float(os.environ.get("AIRCOP_GC_PAUSE_WARNING_MS", "50"))

# API tokens: personal access tokens for scripts and non-browser clients.
AIRCOP_API_TOKEN_DAYS = int(os.environ.get("AIRCOP_API_TOKEN_DAYS", "90"))

# --- Messaging ------------------------------------------------------------------
AIRCOP_MESSAGE_BODY_MAX = 20_000
AIRCOP_INBOX_PAGE_SIZE = 50
AIRCOP_RESUME_BATCH = 200
# The site's address, for the links in e-mails.
AIRCOP_SITE_URL = os.environ.get(
    "AIRCOP_SITE_URL",
    f"https://{os.environ['AIRCOP_SITE_HOST']}"
    if os.environ.get("AIRCOP_SITE_HOST")
    else "http://127.0.0.1:8000",
).rstrip("/")
# Reminders of urgent Alerts not acknowledged in time: alerts older than this are left alone.
AIRCOP_ALERT_REMINDER_WINDOW_HOURS = 24
# Digest of unread messages: a member not seen (no request, no open websocket) since a message
# arrived, and for at least this long, is offline.
AIRCOP_DIGEST_OFFLINE_MINUTES = int(os.environ.get("AIRCOP_DIGEST_OFFLINE_MINUTES", "5"))
# ... and only messages of this many last hours are news (older ones were seen, or missed).
AIRCOP_DIGEST_LOOKBACK_HOURS = 24

# Attachments: stored encrypted in a private directory (never under a static or media URL),
# downloaded only through the authorised views.
AIRCOP_ATTACHMENT_ROOT = Path(os.environ.get("AIRCOP_ATTACHMENT_ROOT", LOCAL_DIR / "attachments"))
AIRCOP_ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024  # per file
AIRCOP_MESSAGE_ATTACHMENTS_MAX_BYTES = 100 * 1024 * 1024  # per message
# Exports built in the background: stored encrypted in a private directory, deleted after this
# many hours.
AIRCOP_EXPORT_ROOT = Path(os.environ.get("AIRCOP_EXPORT_ROOT", LOCAL_DIR / "exports"))
AIRCOP_EXPORT_TTL_HOURS = int(os.environ.get("AIRCOP_EXPORT_TTL_HOURS", "24"))

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("pt", _("Portuguese")),
    ("es", _("Spanish")),
    ("ru", _("Russian")),
    ("ar", _("Arabic")),
    ("de", _("German")),
]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / ".local" / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
for _private_name, _private_root in (
    ("AIRCOP_ATTACHMENT_ROOT", AIRCOP_ATTACHMENT_ROOT),
    ("AIRCOP_EXPORT_ROOT", AIRCOP_EXPORT_ROOT),
):
    if _private_root.resolve().is_relative_to(STATIC_ROOT.resolve()) or any(
        _private_root.resolve().is_relative_to(Path(d).resolve()) for d in STATICFILES_DIRS
    ):
        raise ImproperlyConfigured(f"{_private_name} must not be served as static files.")
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from finders meanwhile

# --- Security -------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
if PRODUCTION:
    # TLS ends at the proxy (Caddy in docker-compose.yml), which says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
# The health probe (aircop/health.py, /healthz) answers before the redirect and the host check.

# Content-Security-Policy of every response, the Django admin and the API documentation
# (django-ninja's Swagger UI) included; aircop/csp.py adds the websocket origin to
# connect-src. Templates put nonce="{{ csp_nonce }}" on their <script> tags; nothing inline
# runs without it.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],  # Bootstrap draws its small icons as data: SVG in CSS
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Request-rate limits (aircop/ratelimit.py): per signed-in user (for login: per username
# tried) and per client address, "<count>/<period>". Generous: an officer never meets them;
# a script or an attacker does. Over a limit: 429 with Retry-After. Lockout after failed
# logins is a separate matter (accounts).
AIRCOP_RATE_LIMITS = {
    "login": {"user": "10/m", "ip": "30/m"},
    "api_token_create": {"user": "10/h", "ip": "60/h"},
    "message_send": {"user": "30/m", "ip": "300/m"},
    "search": {"user": "60/m", "ip": "600/m"},
}
# Proxies in front of the app that append the client's address to X-Forwarded-For (Caddy in
# docker-compose.yml): the per-address limits count the address the outermost one saw.
AIRCOP_TRUSTED_PROXY_COUNT = int(
    os.environ.get("AIRCOP_TRUSTED_PROXY_COUNT", "1" if PRODUCTION else "0")
)

# --- Logging ----------------------------------------------------------------------
# One JSON object per line in production (``AIRCOP_LOG_FORMAT=json``, the default with
# AIRCOP_PRODUCTION=1), readable lines otherwise; each carries the request id of the HTTP
# request, websocket connection or Celery task (aircop/request_id.py). Log lines name ids,
# never message content or personal data.
LOG_FORMAT = os.environ.get("AIRCOP_LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("AIRCOP_LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "aircop.request_id.RequestIdLogFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "{asctime}{levelname}{name}{message}{request_id}",
            "style": "{",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # The access lines of aircop.request replace the servers' own.
        "uvicorn.access": {"level": "WARNING"},
    },
}

# --- Operation administration --------------------------------------------------------
AIRCOP_INVITATION_HOURS = 72  # an invitation link is valid this long, and once
AIRCOP_MEMBER_IMPORT_MAX_ROWS = 5000
