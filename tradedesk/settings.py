"""TradeDesk settings: one file, everything from the environment (see .env.example).

With no environment at all this is the embedded default: SQLite, Kombu's in-memory broker
and Channels' in-memory layer, so one process runs the whole desk. Setting DATABASE_URL and
REDIS_URL turns it into the production shape (PostgreSQL, Redis broker and channel layer).
"""

import os
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Runtime files (the embedded SQLite database, beat schedule, demo credentials): not in git.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _dev_secret_key() -> str:
    """DEBUG only: a random key made once per checkout, so no secret ever sits in the code."""
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        # Written whole under a name of its own, then linked into place: processes starting
        # together on one VAR_DIR (a worker and beat) all read the one key that got there first,
        # never a half-written file, and none fails because another one made it.
        draft = path.with_name(f".dev-secret-key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process linked its key first: that one is the key
        finally:
            os.unlink(draft)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off; set it in the environment or .env "
            "(make run sets DEBUG=true for the embedded desk)."
        )
    SECRET_KEY = _dev_secret_key()
elif not DEBUG and (len(SECRET_KEY) < 32 or SECRET_KEY.startswith("change-me")):
    raise ImproperlyConfigured("SECRET_KEY is a placeholder or shorter than 32 characters; set a real random key.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "channels",
    "axes",
    "tradedesk",
    "signals",
    "orders",
    "following",
    "executor",
    "executor.paper",
    "desk",
    "ops",
    "portfolio",
]

MIDDLEWARE = [
    # First: everything logged while a request is served carries its request id.
    "tradedesk.middleware.RequestIdMiddleware",
    # Under /api/ every answer is JSON, also Django's own 404/400/413 (tradedesk/middleware.py).
    "tradedesk.middleware.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the desk's CSS and JS, the vendored htmx, admin) from this process under
    # uvicorn too; straight from the static folders, no collectstatic step.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# Axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "tradedesk.urls"
ASGI_APPLICATION = "tradedesk.asgi.application"
WSGI_APPLICATION = "tradedesk.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tradedesk.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded desk writes from the web thread and the in-process worker at once:
    # WAL lets reads go on during a write, IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif env.bool("DB_POOL", default=True):
    # A connection pool per process (psycopg-pool). Under ASGI, CONN_MAX_AGE does not keep
    # connections across requests (each request runs in a new thread), so without the pool every
    # request would open a new PostgreSQL connection.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN", default=1),
        "max_size": env.int("DB_POOL_MAX", default=10),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DB_PREPARED", default=True):
    # The intake's two statements are prepared once per connection (tradedesk/db.py): psycopg
    # prepares only those asked for (prepare=True) past this threshold, which nothing reaches,
    # and never Django's other queries (bound on the client). DB_PREPARED=false behind a pooler
    # that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Threads per web process serving HTTP (tradedesk/asgi.py: Django's WSGI handler in a thread
# pool); each holds one database connection while it serves, so keep it below DB_POOL_MAX.
WEB_THREADS = env.int("WEB_THREADS", default=8)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]


# Redis: unset means the embedded default (no external services at all).
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache is shared by every process with Redis (alert deduplication, locks); in-process otherwise.
CACHES = {
    "default": (
        {
            "BACKEND": "tradedesk.redis_pool.RedisCache",
            "LOCATION": REDIS_URL,
            # Every thread's cache shares the process's connections (tradedesk/redis_pool.py).
            "OPTIONS": {"pool_class": "tradedesk.redis_pool.SharedConnectionPool"},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

CELERY_BROKER_URL = REDIS_URL or "memory://"
# Embedded: Kombu's memory transport woken by each message instead of polled (a task waited
# half the 50 ms poll on average): tradedesk/memory_broker.py. The interval is its safety net.
CELERY_BROKER_TRANSPORT = None if REDIS_URL else "tradedesk.memory_broker:Transport"
# Redis redelivers a task a worker took but never acknowledged (it died) after this many
# seconds; placement is idempotent, so a redelivery looks the order up instead of placing it.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
    if REDIS_URL
    else {"polling_interval": 1.0}
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "reconcile-orders": {
        "task": "orders.tasks.reconcile_orders",
        "schedule": env.float("RECONCILE_EVERY", default=30.0),
    },
    # Accepted orders still open at their venue: state, fills and fees (orders/tasks.py).
    "refresh-open-orders": {
        "task": "orders.tasks.refresh_open_orders",
        "schedule": env.float("ORDER_REFRESH_EVERY", default=5.0),
        "options": {"expires": env.float("ORDER_REFRESH_EVERY", default=5.0)},
    },
    # Copy trading (issue 5): a cycle that is not picked up within its interval is dropped.
    "follow-sync": {
        "task": "following.tasks.sync_followers",
        "schedule": env.float("FOLLOW_SYNC_EVERY", default=2.0),
        "options": {"expires": env.float("FOLLOW_SYNC_EVERY", default=2.0)},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tradedesk.auth.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # limit/offset pages with bounds (tradedesk/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "tradedesk.pagination.DeskPagination",
    # JSON with a nesting limit (JSON_MAX_DEPTH), forms, multipart: DRF's defaults otherwise.
    "DEFAULT_PARSER_CLASSES": [
        "tradedesk.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tradedesk.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# A JSON body nested deeper than this is a 400 (tradedesk/parsers.py); no API input nests past 3.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)

SPECTACULAR_SETTINGS = {
    "TITLE": "TradeDesk API",
    "DESCRIPTION": "Strategy signal intake, staff review and order placement.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs are for API callers: log in (admin), or send a bearer token or a strategy key
    # (a strategy generates its client from /api/schema/).
    "SERVE_PERMISSIONS": ["tradedesk.auth.IsUserOrStrategy"],
    "SERVE_AUTHENTICATION": [
        "tradedesk.auth.StrategyKeyAuthentication",
        "tradedesk.auth.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the errors any API call may answer (tradedesk/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tradedesk.schema.document_common_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SideEnum": "tradedesk.choices.Side",
        "SignalStatusEnum": "signals.models.SignalStatus",
        "OrderStatusEnum": "orders.models.OrderStatus",
    },
}

# Risk defaults, used for any symbol without its own limit row in admin. Empty = no limit.
RISK_MAX_ORDER_QTY = env.str("RISK_MAX_ORDER_QTY", default="10")
RISK_MAX_DAILY_QTY = env.str("RISK_MAX_DAILY_QTY", default="100")
RISK_MAX_DAILY_NOTIONAL = env.str("RISK_MAX_DAILY_NOTIONAL", default="")
# Positions and balances pages: a venue's answer (positions, balances, last price) is reused for
# this many seconds, so a live page re-rendered on every order event does not ask the venue each time.
PORTFOLIO_VENUE_CACHE_SECONDS = env.int("PORTFOLIO_VENUE_CACHE_SECONDS", default=5)

# Where desk orders go: dry_run (filled without a venue) or exchange (the exchange account
# marked "desk default" in admin, through its connector).
EXECUTOR = env.str("EXECUTOR", default="exchange")
# The browser executor: which Chromium (empty: Playwright's own, else the system's), headless or
# not, where logins (storage state, mode 0700) and failure evidence (screenshots, traces) go.
PLAYWRIGHT_CHROMIUM_EXECUTABLE = env.str("PLAYWRIGHT_CHROMIUM_EXECUTABLE", default="")
BROWSER_QUEUE = "browser"
BROWSER_HEADLESS = env.bool("BROWSER_HEADLESS", default=True)
BROWSER_STATE_DIR = env.str("BROWSER_STATE_DIR", default=str(VAR_DIR / "browser-state"))
BROWSER_ARTIFACTS_DIR = env.str("BROWSER_ARTIFACTS_DIR", default=str(VAR_DIR / "artifacts"))
BROWSER_TRACE = env.bool("BROWSER_TRACE", default=True)
# Clicks and fills check the element in the page in one call and act at once
# (executor/browser/click.py); false: Playwright's own click and fill every time (its click
# waits two animation frames: ~30 ms a click headless).
BROWSER_QUICK_STEPS = env.bool("BROWSER_QUICK_STEPS", default=True)
# Restart an idle browser whose memory grew by more than this share since it warmed up.
BROWSER_RECYCLE_GROWTH = env.float("BROWSER_RECYCLE_GROWTH", default=0.5)
# Extra folders with exchange profiles (YAML), searched before the built-in executor/profiles.
EXCHANGE_PROFILE_DIRS = env.list("EXCHANGE_PROFILE_DIRS", default=[])
# Where the paper exchange is for accounts that leave base_url empty (embedded: this server).
PAPER_BASE_URL = env.str("PAPER_BASE_URL", default="http://127.0.0.1:8000/paper")
# Seconds the API connector waits for the venue's answer before the outcome counts as unknown.
PAPER_API_TIMEOUT = env.float("PAPER_API_TIMEOUT", default=10.0)
# The bundled paper exchange's trading fees, a fraction of each fill's quote amount, charged in the
# quote asset (0.001 = 0.1%): maker = a resting order filled later, taker = filled on arrival.
PAPER_MAKER_FEE_RATE = Decimal(env.str("PAPER_MAKER_FEE_RATE", default="0.001"))
PAPER_TAKER_FEE_RATE = Decimal(env.str("PAPER_TAKER_FEE_RATE", default="0.001"))
# The paper exchange's Binance dialect: request weight per client address and minute (Binance's
# REQUEST_WEIGHT limit); a request over it is refused with 429 and Retry-After.
PAPER_BINANCE_WEIGHT_LIMIT = env.int("PAPER_BINANCE_WEIGHT_LIMIT", default=6000)
# An order whose outcome stays unknown this long without the venue knowing it is FAILED.
RECONCILE_GRACE_SECONDS = env.int("RECONCILE_GRACE_SECONDS", default=120)
RECONCILE_EVERY = env.float("RECONCILE_EVERY", default=30.0)
# An accepted order open at its venue is asked for its state (fills, fees) at most this often
# (seconds), by beat's refresh-open-orders, which queues at most ORDER_REFRESH_BATCH per run.
ORDER_REFRESH_EVERY = env.float("ORDER_REFRESH_EVERY", default=5.0)
ORDER_REFRESH_BATCH = env.int("ORDER_REFRESH_BATCH", default=100)
# Orders at browser accounts: each read is a page load on the worker that also places them.
ORDER_REFRESH_BROWSER_EVERY = env.float("ORDER_REFRESH_BROWSER_EVERY", default=30.0)
# Fernet keys for exchange credentials at rest, newest first (comma separated); see executor/crypto.py.
CREDENTIALS_KEYS = env.list("CREDENTIALS_KEYS", default=[])
# Dry run's "last known price" per symbol, e.g. "BTC/USDT=65000,ETH/USDT=3200".
DRY_RUN_PRICES = {
    symbol.strip().upper(): Decimal(price) for symbol, price in env.dict("DRY_RUN_PRICES", default={}).items()
}
# ccxt accounts (executor/connectors/ccxt_connector.py): seconds to wait for an answer (after that
# a sent order is UNKNOWN and looked up); how often a call the venue refused before acting (rate
# limit) or that never left (connection refused) is tried again, the first wait (doubling; at least
# the venue's Retry-After), the longest Retry-After waited for (longer: FAILED RATE_LIMITED); how
# long loaded markets are trusted in a process; the quote assets a spot holding is a position in
# (BTC held -> BTC/USDT); the clock difference the account check accepts.
CCXT_TIMEOUT = env.float("CCXT_TIMEOUT", default=10.0)
CCXT_RETRIES = env.int("CCXT_RETRIES", default=2)
CCXT_RETRY_DELAY = env.float("CCXT_RETRY_DELAY", default=0.5)
CCXT_RETRY_AFTER_MAX = env.float("CCXT_RETRY_AFTER_MAX", default=10.0)
CCXT_MARKETS_TTL = env.float("CCXT_MARKETS_TTL", default=3600.0)
CCXT_QUOTE_ASSETS = env.list("CCXT_QUOTE_ASSETS", default=["USDT", "USDC", "FDUSD", "BUSD", "USD", "EUR"])
CCXT_MAX_CLOCK_SKEW_MS = env.int("CCXT_MAX_CLOCK_SKEW_MS", default=5000)
# The base URLs (and what is under them) a user may give an exchange account they add through the
# follow-config API; admins may set any. Default: the paper exchange only.
ACCOUNT_BASE_URLS_ALLOWED = env.list("ACCOUNT_BASE_URLS_ALLOWED", default=[PAPER_BASE_URL])
# Venue rules at confirm (orders/venue_rules.py): how long an account's instruments are trusted
# before the venue is asked again; beat refreshes every API account's every VENUE_RULES_REFRESH_EVERY
# seconds and checks each account's health (keys valid, clock) every ACCOUNT_HEALTH_EVERY seconds.
VENUE_RULES_TTL = env.float("VENUE_RULES_TTL", default=900.0)
VENUE_RULES_REFRESH_EVERY = env.float("VENUE_RULES_REFRESH_EVERY", default=600.0)
ACCOUNT_HEALTH_EVERY = env.float("ACCOUNT_HEALTH_EVERY", default=300.0)
CELERY_BEAT_SCHEDULE["refresh-venue-instruments"] = {
    "task": "orders.tasks.refresh_instruments",
    "schedule": VENUE_RULES_REFRESH_EVERY,
    "options": {"expires": VENUE_RULES_REFRESH_EVERY},
}
CELERY_BEAT_SCHEDULE["check-account-health"] = {
    "task": "executor.tasks.check_accounts",
    "schedule": ACCOUNT_HEALTH_EVERY,
    "options": {"expires": ACCOUNT_HEALTH_EVERY},
}

# Staff desk pages (issue 4).
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
# A PENDING signal older than this many seconds is CANCELED (beat checks every
# SIGNAL_EXPIRY_EVERY seconds, and the desk checks again before any accept or order), so a stale
# signal cannot be confirmed by mistake. 0 turns expiry off.
SIGNAL_MAX_AGE = env.int("SIGNAL_MAX_AGE", default=300)
SIGNAL_EXPIRY_EVERY = env.float("SIGNAL_EXPIRY_EVERY", default=5.0)
CELERY_BEAT_SCHEDULE["expire-signals"] = {"task": "signals.tasks.expire_signals", "schedule": SIGNAL_EXPIRY_EVERY}
# Login brute-force protection (django-axes): this many failures for one username from one
# address lock that pair out for AXES_COOLOFF_MINUTES. Behind a reverse proxy set
# TRUSTED_PROXY_COUNT to the number of proxies that append to X-Forwarded-For, so the client's
# own address is the one counted (not the proxy's, which would lock out everyone at once).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "desk.client_ip.client_ip"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Django admin follows the roles: the admin role may do everything there, no other role opens it
# (desk/admin_access.py), so a user put in the admin group in admin is a full admin.
AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "desk.admin_access.AdminRoleBackend"]
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(exist_ok=True)  # collectstatic's target; whitenoise warns on every start without it

# Copy trading (issue 5).
# Seconds between follower sync cycles (Celery beat), and the largest follow_ratio a follower may set.
FOLLOW_SYNC_EVERY = env.float("FOLLOW_SYNC_EVERY", default=2.0)
FOLLOW_MAX_RATIO = Decimal(env.str("FOLLOW_MAX_RATIO", default="10"))
# A follower whose master positions and ratio did not change is checked against its venue again
# after this many seconds anyway (to catch drift from trades made outside the desk).
FOLLOW_RECHECK_SECONDS = env.int("FOLLOW_RECHECK_SECONDS", default=60)
# Followers evaluated in parallel in one cycle (threads; 0 = one after another in the task).
FOLLOW_SYNC_THREADS = env.int("FOLLOW_SYNC_THREADS", default=8)
# Seconds a cycle waits for one follower (a venue that hangs) before it goes on without it; the
# late follower finishes on its own thread and is evaluated again only after that.
FOLLOW_FOLLOWER_DEADLINE = env.float("FOLLOW_FOLLOWER_DEADLINE", default=3.0)
# Beat queues one sync task per master account (any number of workers run them); false: one
# cycle of every follower in the beat's task.
FOLLOW_SYNC_PER_MASTER = env.bool("FOLLOW_SYNC_PER_MASTER", default=True)
# The follow watcher (manage.py follow_watch, following/watch.py): every this many seconds it
# looks again for masters whose venue pushes their trades; a broken stream is reconnected after
# a pause that grows from FOLLOW_WATCH_RETRY_MIN to FOLLOW_WATCH_RETRY_MAX seconds.
FOLLOW_WATCH_REFRESH = env.float("FOLLOW_WATCH_REFRESH", default=10.0)
# The watcher reads a master whose venue pushes nothing every this many seconds (one position
# read; a change queues its sync); 0: it leaves them to beat's poll.
FOLLOW_WATCH_POLL = env.float("FOLLOW_WATCH_POLL", default=0.1)
FOLLOW_WATCH_RETRY_MIN = env.float("FOLLOW_WATCH_RETRY_MIN", default=1.0)
FOLLOW_WATCH_RETRY_MAX = env.float("FOLLOW_WATCH_RETRY_MAX", default=30.0)
# Follower accounts one sync task evaluates; a master with more followers hands the rest to
# further tasks in batches of this size.
FOLLOW_SYNC_BATCH = env.int("FOLLOW_SYNC_BATCH", default=250)
# A master change is split over at least this many tasks, however few its followers: set it to
# the worker processes that run syncs (`make worker` runs 2), so every one of them takes a part.
FOLLOW_SYNC_SPLIT = env.int("FOLLOW_SYNC_SPLIT", default=2)
# A cycle's lock expires after this many seconds even if its worker died holding it.
FOLLOW_SYNC_LOCK_SECONDS = env.int("FOLLOW_SYNC_LOCK_SECONDS", default=120)
# A follower order above this quantity is refused and pauses the follower (empty = no limit).
FOLLOW_MAX_ORDER_QTY = env.str("FOLLOW_MAX_ORDER_QTY", default="")
# Lot size for venues that publish no instruments (the dry run).
FOLLOW_DEFAULT_LOT_SIZE = Decimal(env.str("FOLLOW_DEFAULT_LOT_SIZE", default="0.0001"))
# Open sign-up page for followers at /follow/signup (off: users are made by an admin or a command).
FOLLOW_SIGNUP_OPEN = env.bool("FOLLOW_SIGNUP_OPEN", default=False)
# The desk's mail server for followers' own email notifications (following/notify.py): an apprise
# mailto:// or mailtos:// URL without a recipient (mailtos://user:pass@smtp.example.com); empty = no email.
FOLLOW_NOTIFY_EMAIL_URL = env.str("FOLLOW_NOTIFY_EMAIL_URL", default="")

# Operations: alerts, health, metrics (issue 6).
# Apprise URLs (comma separated: mailto://, tgram://, slack://, json://...); empty = alerts only logged.
ALERT_URLS = env.list("ALERT_URLS", default=[])
# One incident (event + key) sends at most one message per this many seconds.
ALERT_DEDUP_SECONDS = env.int("ALERT_DEDUP_SECONDS", default=900)
# Old secret keys still accepted for sessions and signed values while a new SECRET_KEY rolls
# out (comma separated); remove them once every session has been renewed.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Which environment this is (dev, staging, prod): in every alert's title and in /metrics.
DESK_ENV = env.str("DESK_ENV", default="dev" if DEBUG else "prod")
# Bearer token for /metrics and the details of /readyz (Prometheus: authorization credentials).
# Empty: only a logged-in desk admin may read them.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Seconds /readyz waits for all its checks together before a silent one counts as failed.
READYZ_TIMEOUT = env.float("READYZ_TIMEOUT", default=3.0)
# Beat sends a heartbeat to the worker this often (seconds), which passes it on to the browser
# worker; beat or a worker whose last heartbeat is older than HEARTBEAT_MAX_AGE is silent. The
# browser worker runs one order at a time, so the limit leaves room for a few slow orders.
HEARTBEAT_EVERY = env.float("HEARTBEAT_EVERY", default=15.0)
HEARTBEAT_MAX_AGE = env.int("HEARTBEAT_MAX_AGE", default=120)
# How often (seconds) the watchdog runs the readiness checks and sends alerts for failures.
WATCHDOG_EVERY = env.float("WATCHDOG_EVERY", default=30.0)
# (The worker passes each heartbeat on to the browser worker while a browser account is active.)
CELERY_BEAT_SCHEDULE["ops-heartbeat"] = {
    "task": "ops.tasks.heartbeat",
    "schedule": HEARTBEAT_EVERY,
    "options": {"queue": "celery", "expires": HEARTBEAT_MAX_AGE},
}
CELERY_BEAT_SCHEDULE["ops-watchdog"] = {
    "task": "ops.tasks.watchdog",
    "schedule": WATCHDOG_EVERY,
    "options": {"expires": WATCHDOG_EVERY},
}
# Web processes count requests and sockets per process; with several (uvicorn --workers) the
# environment variable PROMETHEUS_MULTIPROC_DIR names a folder, emptied at every start, where
# they share them so /metrics adds them all up (see README, "Operating the desk").
MIDDLEWARE.insert(0, "ops.middleware.OpsMiddleware")
# Requests under /api/ go through a second handler with this shorter chain (tradedesk/asgi.py):
# the API serves no static files, shows no messages, logs nobody in (axes' lockout answer is for
# the login page) and checks CSRF itself for session logins (DRF's SessionAuthentication), so
# these cost an API request ~4% of its CPU for nothing (bench/README.md, "Signal intake").
# Sessions, authentication and simple-history's request hook stay: staff use the API with
# their session too, and their changes are audited with their user.
PAGES_ONLY_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]
API_MIDDLEWARE = [name for name in MIDDLEWARE if name not in PAGES_ONLY_MIDDLEWARE]

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    # HTTPS only (behind a proxy that sets X-Forwarded-Proto), except the probes, which the
    # load balancer and Prometheus call over plain HTTP inside the network, and the paper
    # exchange, whose JSON API the workers may reach the same way (PAPER_BASE_URL).
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", r"^paper/"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one JSON object per line with the request, order and signal ids (tradedesk/logging.py);
# plain: the same as text, for development. Secrets are masked by a filter on the way out.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "tradedesk.logging.ContextFilter"},
        "redact": {"()": "tradedesk.logging.RedactFilter"},
        "routine_tasks": {"()": "tradedesk.logging.RoutineTaskFilter"},
    },
    "formatters": {
        "json": {"()": "tradedesk.logging.JsonFormatter"},
        "plain": {"()": "tradedesk.logging.PlainFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context", "redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # ccxt logs every request's headers and body at DEBUG: API keys, signatures, balances.
        "ccxt": {"level": "INFO"},
        # httpx logs every request at INFO (the paper connector's, the alert webhooks'): a second
        # line beside the desk's own for each order and venue read. Shown at LOG_LEVEL=DEBUG.
        **dict.fromkeys(["httpx", "httpcore"], {"level": "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"}),
        # One line per 4xx: the request middleware's (tradedesk.request, with the request id).
        # django.request would add a WARNING for it, and Django's own console handler on the
        # "django" logger (DEBUG) a third, unformatted copy; 5xx still come here with the traceback.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"level": "ERROR"},
        # Uvicorn's own lines in the same format; its access lines are replaced by the request
        # middleware's, which carry the request id.
        "uvicorn": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "uvicorn.error": {"level": LOG_LEVEL},
        "uvicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # A line per task received and finished, and per beat schedule: useful in production logs
        # (they carry the task id), noise in the embedded desk's console. Those of the routine
        # tasks beat runs every few seconds are left out unless LOG_ROUTINE_TASKS is on.
        **dict.fromkeys(
            ["celery.beat", "celery.worker.strategy", "celery.app.trace"],
            {
                "level": env.str("TASK_LOG_LEVEL", default="WARNING" if DEBUG else LOG_LEVEL),
                "filters": ["routine_tasks"],
            },
        ),
    },
}
# Celery's received/succeeded/sending lines for the tasks in CELERY_BEAT_SCHEDULE (every few
# seconds; tens of thousands of lines a day): off by default, their failures are always logged.
LOG_ROUTINE_TASKS = env.bool("LOG_ROUTINE_TASKS", default=False)
# Celery workers keep the handler above instead of installing their own text format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes a prefork worker's connection pool before and after every task
# unless told to reuse it: every copy-sync batch and every order placement then opened its
# PostgreSQL connections anew. With the pool on, it is closed once per this many tasks instead
# (psycopg-pool itself drops broken and old connections, as in the web processes).
if DATABASES["default"].get("OPTIONS", {}).get("pool"):
    CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
