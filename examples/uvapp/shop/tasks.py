import socket
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import TaskRun


@shared_task
def add(x, y):
    return TaskRun.objects.create(kind="add", value=x + y, host=socket.gethostname()).value


@shared_task
def heartbeat():
    TaskRun.objects.create(kind="beat", host=socket.gethostname())
    # Beat fires every 10 s; keep an hour of them.
    TaskRun.objects.filter(kind="beat", finished_at__lt=timezone.now() - timedelta(hours=1)).delete()
