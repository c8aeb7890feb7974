# Importing the Celery app with Django binds @shared_task to it, and lets
# `celery -A blogsite` find it as `blogsite.celery_app`.
from .celery import app as celery_app

__all__ = ("celery_app",)
