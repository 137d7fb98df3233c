"""Settings for the baseline: the same database handling as the desk, and nothing it doesn't need.

No middleware, no auth, no logging per request: what is left is Django's request cycle, one
ORM INSERT and a JSON response. Persistent connections are set the same way as the desk's
(CONN_MAX_AGE, health checks), so the ratio measures the desk's own code.
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
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
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
