import socket
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import TaskRun

# How long tick rows are kept; beat adds one every 10 s.
TICK_HISTORY = timedelta(hours=1)


@shared_task
def wordcount(text):
    words = len(text.split())
    TaskRun.objects.create(kind="wordcount", value=words, host=socket.gethostname())
    return words


@shared_task
def tick():
    TaskRun.objects.create(kind="tick", host=socket.gethostname())
    TaskRun.objects.filter(kind="tick", finished_at__lt=timezone.now() - TICK_HISTORY).delete()
