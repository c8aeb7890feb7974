"""WSGI entry point: `gunicorn blogsite.wsgi:application`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blogsite.conf.live")

application = get_wsgi_application()
