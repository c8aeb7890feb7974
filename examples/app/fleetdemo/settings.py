"""Settings for fleetdemo.

Everything that differs between machines comes from environment variables,
because the deploy tool writes them into an env file that systemd loads for
gunicorn, celery and manage.py alike.
"""
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def parse_database_url(url):
    """Turn scheme://user:pass@host:port/name?opt=val into Django's DATABASES entry.

    Parsed by hand to avoid a dependency; user and password are
    percent-decoded so generated passwords may contain any character.
    """
    engines = {
        "postgres": "django.db.backends.postgresql",
        "postgresql": "django.db.backends.postgresql",
        "pgsql": "django.db.backends.postgresql",
        "mysql": "django.db.backends.mysql",
        "sqlite": "django.db.backends.sqlite3",
    }
    parts = urlsplit(url)
    if parts.scheme not in engines:
        raise ImproperlyConfigured(f"DATABASE_URL: unsupported scheme {parts.scheme!r}")
    if parts.scheme == "sqlite":
        # sqlite:///relative.db or sqlite:////absolute/path.db
        return {"ENGINE": engines["sqlite"], "NAME": unquote(parts.path[1:]) or ":memory:"}
    return {
        "ENGINE": engines[parts.scheme],
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # e.g. ?sslmode=require is passed straight to the driver.
        "OPTIONS": dict(parse_qsl(parts.query)),
        # Reuse connections across requests, but verify them first so a
        # database restart does not surface as errors.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-development-key"

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "*").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "notes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fleetdemo.urls"
WSGI_APPLICATION = "fleetdemo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# Without DATABASE_URL a local SQLite file keeps `manage.py runserver` usable.
DATABASES = {
    "default": parse_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# nginx serves these directories directly; Django only collects into them.
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "static-root")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")


def s3_media_storage():
    """STORAGES["default"] for django-storages' S3 backend, from AWS_* variables.

    Used when DJANGO_MEDIA_STORAGE=s3 so every app node reads and writes the
    same uploads. Objects stay private (no ACL, signed URLs); the app serves
    them itself through /files/, so the bucket needs no public policy.
    """

    def required(name):
        value = os.environ.get(name, "").strip()
        if not value:
            raise ImproperlyConfigured(f"{name} must be set when DJANGO_MEDIA_STORAGE=s3")
        return value

    def optional(name, default=None):
        return os.environ.get(name, "").strip() or default

    addressing_style = optional("AWS_S3_ADDRESSING_STYLE", "path").lower()
    if addressing_style not in ("path", "virtual"):
        raise ImproperlyConfigured(
            f"AWS_S3_ADDRESSING_STYLE must be 'path' or 'virtual', not {addressing_style!r}"
        )
    options = {
        "bucket_name": required("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": required("AWS_S3_ENDPOINT_URL"),
        # None lets botocore choose (AWS_DEFAULT_REGION, else us-east-1).
        "region_name": optional("AWS_S3_REGION_NAME"),
        "access_key": required("AWS_ACCESS_KEY_ID"),
        "secret_key": required("AWS_SECRET_ACCESS_KEY"),
        "addressing_style": addressing_style,
        # Key prefix inside the bucket ("/" for the bucket root).
        "location": optional("AWS_LOCATION", "media").strip("/"),
        "custom_domain": optional("AWS_S3_CUSTOM_DOMAIN"),
        "default_acl": None,
        "querystring_auth": True,
        # SigV4 for signed URLs too (botocore may still pick SigV2 for
        # presigning), which S3-compatible servers without SigV2 need.
        "signature_version": "s3v4",
        # Like FileSystemStorage: a second upload with the same name gets a
        # suffix instead of replacing the first.
        "file_overwrite": False,
    }
    # boto3 reads AWS_CA_BUNDLE by itself; passing it on makes the choice explicit.
    ca_bundle = optional("AWS_CA_BUNDLE")
    if ca_bundle:
        options["verify"] = ca_bundle
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


# "local" (the default) keeps uploads in MEDIA_ROOT on each node; "s3" shares them.
MEDIA_STORAGE = os.environ.get("DJANGO_MEDIA_STORAGE", "").strip().lower() or "local"
if MEDIA_STORAGE not in ("local", "s3"):
    raise ImproperlyConfigured(
        f"DJANGO_MEDIA_STORAGE must be 'local' or 's3', not {MEDIA_STORAGE!r}"
    )
STORAGES = {
    "default": (
        s3_media_storage()
        if MEDIA_STORAGE == "s3"
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    # Django's own default, unchanged: collectstatic writes plain files to STATIC_ROOT.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Largest file POST /upload/ accepts (notes.views.upload).
UPLOAD_MAX_BYTES = 5 * 1024 * 1024

# Behind nginx: trust its Host and scheme headers so URLs and
# request.is_secure() reflect what the client used.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Log to stderr only: systemd hands it to journald.
LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False}},
}

# Celery reads every CELERY_* setting (see fleetdemo/celery.py).
def parse_cache_url(url):
    """CACHE_URL -> Django CACHES["default"]: memcached://host:port, redis://..., or local memory.

    An optional ?key_prefix=NAME becomes KEY_PREFIX (apps sharing one cache server keep
    apart) and is removed from LOCATION: redis-py rejects query arguments it does not know.
    """
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [v for k, v in query if k == "key_prefix"]
    if parts.scheme == "memcached":
        cache = {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": parts.netloc}
    elif parts.scheme in ("redis", "rediss"):
        if prefixes:
            url = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "key_prefix"])))
        cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    else:
        raise ImproperlyConfigured(f"CACHE_URL: unsupported scheme {parts.scheme!r}")
    if prefixes:
        cache["KEY_PREFIX"] = prefixes[-1]
    return cache


CACHES = {"default": parse_cache_url(os.environ.get("CACHE_URL"))}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Tasks write their results to the database themselves (notes.TaskRun),
# so no result backend is needed.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
