# Load the Celery app whenever Django starts so @shared_task binds to it,
# and so `celery -A fleetdemo` finds it as `fleetdemo.celery_app`.
from .celery import app as celery_app

__all__ = ("celery_app",)
