"""A pytest plugin loaded before Django's settings (`-p tests.var_dir` in pyproject.toml), giving
every test process its own:

- VAR_DIR, a throwaway folder: the tests never touch the developer's `var/` (their desk's
  database, browser logins, beat schedule), and test processes running side by side
  (pytest-xdist workers) never share a browser account's lock files or storage state;
- Redis database, when REDIS_URL names one: pytest-xdist's worker N uses the database N below it
  (tests flush theirs), as pytest-django gives each worker its own test database.
"""

import atexit
import os
import re
import shutil
import tempfile

_var_dir = tempfile.mkdtemp(prefix="tradedesk-test-var-")
os.environ["VAR_DIR"] = _var_dir
atexit.register(shutil.rmtree, _var_dir, ignore_errors=True)

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis = re.fullmatch(r"(redis://[^/]+)/(\d+)", os.environ.get("REDIS_URL", ""))
if _worker.startswith("gw") and _redis:
    database = int(_redis.group(2)) - int(_worker[2:])
    if database < 0:
        raise RuntimeError(f"REDIS_URL {os.environ['REDIS_URL']}: no Redis database for worker {_worker}")
    os.environ["REDIS_URL"] = f"{_redis.group(1)}/{database}"
