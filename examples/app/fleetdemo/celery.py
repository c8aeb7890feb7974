import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetdemo.settings")

app = Celery("fleetdemo")
# All CELERY_* names in Django settings (broker URL etc.) configure Celery.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = {
    # Short period so an end-to-end test sees a beat within seconds.
    "heartbeat": {"task": "notes.tasks.heartbeat", "schedule": 10.0},
}
app.autodiscover_tasks()
