"""Settings for the paper exchange on its own: the desk's settings with a paper-only urlconf.

DJANGO_SETTINGS_MODULE=executor.paper.standalone; `manage.py runpaper` switches to it itself.
Same database as the desk, so accounts, orders and faults are shared with it.
"""

from tradedesk.settings import *  # noqa: F403

ROOT_URLCONF = "executor.paper.standalone_urls"
