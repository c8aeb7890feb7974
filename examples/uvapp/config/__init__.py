# Load the Celery app when Django starts so @shared_task binds to it,
# and so `celery -A config` finds it.
from .celery import app as celery_app

__all__ = ("celery_app",)
