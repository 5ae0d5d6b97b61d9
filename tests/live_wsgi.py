"""WSGI entry point for live servers started by tests (tests/services.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.live_settings")
application = get_wsgi_application()
