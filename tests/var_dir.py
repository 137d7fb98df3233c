"""A pytest plugin loaded before Django's settings (`-p tests.var_dir` in pyproject.toml): every
test process gets a throwaway VAR_DIR of its own, so the tests never touch the developer's
`var/` (their desk's database, browser logins, beat schedule), and test processes running side
by side (pytest-xdist workers) never share a browser account's lock files or storage state."""

import atexit
import os
import shutil
import tempfile

_var_dir = tempfile.mkdtemp(prefix="tradedesk-test-var-")
os.environ["VAR_DIR"] = _var_dir
atexit.register(shutil.rmtree, _var_dir, ignore_errors=True)
