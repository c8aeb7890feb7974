import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blogsite.conf.live")

app = Celery("blogsite")
# Every CELERY_* setting in blogsite.conf.live (broker, beat schedule, ...)
# configures this app.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
