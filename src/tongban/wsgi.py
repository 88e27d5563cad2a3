"""WSGI entry point: ``gunicorn tongban.wsgi``.

Each web process warms itself in a background thread (``tongban.warmup``) so that its first visitors do not
pay for cold caches; ``TONGBAN_WARMUP=0`` turns it off.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
application = get_wsgi_application()

if os.environ.get("TONGBAN_WARMUP", "1") != "0":
    from tongban.warmup import start_in_background

    start_in_background()
