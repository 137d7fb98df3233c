"""Settings for the baseline: Django's defaults and nothing the one view doesn't need.

No middleware, no auth, no logging per request: what is left is Django's request cycle, one
ORM INSERT and a JSON response. The database is handled as the desk's (a psycopg pool per
process unless DB_POOL=false), so the ratio measures the intake's work, not a connection setting.
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
if env.bool("DB_POOL", default=True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 1, "max_size": env.int("DB_POOL_MAX", default=10)}}
else:
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
