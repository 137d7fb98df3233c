"""Settings for the baseline: Django's defaults and nothing the one view doesn't need.

No middleware, no auth, no logging per request: what is left is Django's request cycle, one
ORM INSERT and a JSON response. The database is Django's default handling too (CONN_MAX_AGE=0:
a connection per request, closed at its end), not the desk's CONN_MAX_AGE=60, which under
ASGI leaves one connection per request open until garbage collection; how the desk configures
its database is part of what the ratio measures. CONN_MAX_AGE in the environment overrides it.
"""

import environ

env = environ.Env()

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = ["bench.baseline_app"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.baseline_app.urls"

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"

# Errors only (a 500 in the baseline would skew the ratio, so it must show in the server log).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
