"""Settings of the blog sample project (DJANGO_SETTINGS_MODULE=blogsite.conf.live).

Every machine-specific value comes from a BLOG_* environment variable; django-fleet
writes them into the env file that gunicorn, celery and manage.py all load.

Local use needs only BLOG_SECRET: without BLOG_DB_URL the project runs on a SQLite
file. BLOG_DB_URL marks a deployment, and a deployment must also set BLOG_BROKER,
BLOG_HOSTS, BLOG_STATIC_DIR and BLOG_MEDIA_DIR; a missing one stops start-up with
ImproperlyConfigured instead of falling back to a value that would hide it.
"""
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

# examples/blog (this file is blogsite/conf/live.py).
BASE_DIR = Path(__file__).resolve().parents[2]


def env(name):
    """The variable's value, or None when it is unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None


def required(name, why):
    value = env(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set ({why})")
    return value


DB_URL = env("BLOG_DB_URL")
DEPLOYED = DB_URL is not None


def deployment_value(name, local):
    """A value every deployment sets; `local` only serves the SQLite set-up."""
    if DEPLOYED:
        return required(name, "BLOG_DB_URL is set, so this is a deployment")
    return env(name) or local


def db_settings(url):
    """BLOG_DB_URL (postgres://user:pw@host:port/name or mysql://...) -> DATABASES entry.

    User, password and database name are percent-decoded, so generated passwords may
    hold any character. Query arguments (e.g. ?sslmode=require) become driver OPTIONS.
    """
    backends = {
        "postgres": "django.db.backends.postgresql",
        "postgresql": "django.db.backends.postgresql",
        "mysql": "django.db.backends.mysql",
    }
    parts = urlsplit(url)
    backend = backends.get(parts.scheme)
    if backend is None:
        raise ImproperlyConfigured(
            f"BLOG_DB_URL: scheme {parts.scheme!r} is not one of {', '.join(sorted(backends))}"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"BLOG_DB_URL: bad port ({exc})") from None
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("BLOG_DB_URL: the database name (the path) is missing")
    return {
        "ENGINE": backend,
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port) if port else "",
        "OPTIONS": dict(parse_qsl(parts.query)),
        # Each request runs in one transaction: a failing view leaves no half-written rows.
        "ATOMIC_REQUESTS": True,
        # Keep connections for a minute, checked before reuse so a database
        # restart does not turn into request errors.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def cache_settings(url):
    """BLOG_CACHE -> CACHES["default"].

    memcached://host:port or redis://:pw@host:port/db (also rediss://), each with an
    optional ?key_prefix=NAME that becomes KEY_PREFIX and is dropped from LOCATION
    (redis-py refuses query arguments it does not know). Unset: local memory.
    """
    if url is None:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for key, value in query if key == "key_prefix"]
    rest = [(key, value) for key, value in query if key != "key_prefix"]
    if parts.scheme == "memcached":
        if not parts.netloc:
            raise ImproperlyConfigured("BLOG_CACHE: memcached:// needs host:port")
        cache = {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": parts.netloc,
        }
    elif parts.scheme in ("redis", "rediss"):
        location = url if not prefixes else urlunsplit(parts._replace(query=urlencode(rest)))
        cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}
    else:
        raise ImproperlyConfigured(f"BLOG_CACHE: unsupported scheme {parts.scheme!r}")
    if prefixes:
        cache["KEY_PREFIX"] = prefixes[-1]
    return cache


def host_list(value):
    """BLOG_HOSTS is separated by ";" (not ","); "*" allows any host."""
    return [host.strip() for host in value.split(";") if host.strip()]


SECRET_KEY = required("BLOG_SECRET", "the secret key; there is no built-in one")
DEBUG = False

# Unset locally: Django then refuses every request, which shows at once.
ALLOWED_HOSTS = host_list(deployment_value("BLOG_HOSTS", ""))

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "posts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "blogsite.urls"
WSGI_APPLICATION = "blogsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

if DEPLOYED:
    DATABASES = {"default": db_settings(DB_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "ATOMIC_REQUESTS": True,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Deliberately not /static/ and /media/: nginx must take both URLs from these settings.
STATIC_URL = "/assets/"
# Unset locally: collectstatic refuses to run without it.
STATIC_ROOT = deployment_value("BLOG_STATIC_DIR", None)
MEDIA_URL = "/uploads/"
MEDIA_ROOT = deployment_value("BLOG_MEDIA_DIR", str(BASE_DIR / "uploads"))

CACHES = {"default": cache_settings(env("BLOG_CACHE"))}

# nginx sits in front: trust its Host and scheme headers.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs go to stderr; systemd passes them to journald.
LOG_LEVEL = (env("DJANGO_LOG_LEVEL") or "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False}},
}

# Celery (blogsite/celery.py reads every CELERY_* name). Locally, without a
# deployment, tasks go to an in-memory queue that nothing consumes.
CELERY_BROKER_URL = deployment_value("BLOG_BROKER", "memory://localhost/")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Tasks record their own results (posts.TaskRun): no result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Every 10 s, so an end-to-end test sees beat at work within seconds.
    "tick": {"task": "posts.tasks.tick", "schedule": 10.0},
}
