"""aircop settings: one module, driven by the environment.

No environment at all gives the embedded default (SQLite, in-memory channel
layer, eager Celery, console e-mail) so that ``make run`` works on a bare
machine. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to
channels_redis and Celery over Redis. ``AIRCOP_PRODUCTION=1`` refuses to start
without its secrets. Every variable is listed in ``.env.example``.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
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
DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)


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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "messaging.context_processors.unread",
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
# AIRCOP_CHANNEL_LAYER: "core" (RedisChannelLayer, the default) or "pubsub"
# (RedisPubSubChannelLayer); docs/performance.md compares them. Capacity and expiry bound what a
# slow consumer can queue (core only); delivery never depends on them: clients resume from the
# database.
CHANNEL_LAYER_BACKENDS = {
    "core": "channels_redis.core.RedisChannelLayer",
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

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

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
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "aircop <noreply@localhost>")

# --- Authentication -------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_AGE = 12 * 3600

# API tokens: personal access tokens for scripts and non-browser clients.
AIRCOP_API_TOKEN_DAYS = int(os.environ.get("AIRCOP_API_TOKEN_DAYS", "90"))

# --- Messaging ------------------------------------------------------------------
AIRCOP_MESSAGE_BODY_MAX = 20_000
AIRCOP_INBOX_PAGE_SIZE = 50
AIRCOP_RESUME_BATCH = 200

# Attachments: stored encrypted in a private directory (never under a static or media URL),
# downloaded only through the authorised views.
AIRCOP_ATTACHMENT_ROOT = Path(os.environ.get("AIRCOP_ATTACHMENT_ROOT", LOCAL_DIR / "attachments"))
AIRCOP_ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024  # per file
AIRCOP_MESSAGE_ATTACHMENTS_MAX_BYTES = 100 * 1024 * 1024  # per message

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
if AIRCOP_ATTACHMENT_ROOT.resolve().is_relative_to(STATIC_ROOT.resolve()) or any(
    AIRCOP_ATTACHMENT_ROOT.resolve().is_relative_to(Path(d).resolve()) for d in STATICFILES_DIRS
):
    raise ImproperlyConfigured("AIRCOP_ATTACHMENT_ROOT must not be served as static files.")
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from finders meanwhile

# --- Security -------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

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
