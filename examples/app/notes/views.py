import logging
import socket

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .models import Note, TaskRun
from .tasks import add

log = logging.getLogger(__name__)


@never_cache
def index(request):
    if request.method == "GET":
        # Each page view proves web -> broker -> worker -> database works;
        # the result shows up on a later view. A broker outage must not
        # take the page down, so it is only logged.
        try:
            add.delay(2, 3)
        except Exception:
            log.exception("could not enqueue add task")
    # A counter in the shared cache: proves every app node reaches the same cache.
    try:
        cache.add("page-views", 0)
        page_views = cache.incr("page-views")
    except Exception:
        log.exception("cache unavailable")
        page_views = None
    return render(
        request,
        "notes/index.html",
        {
            "page_views": page_views,
            "cache_backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
            "notes": Note.objects.all(),
            "add": TaskRun.latest("add"),
            "beat": TaskRun.latest("beat"),
            "served_by": socket.gethostname(),
        },
    )


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.exception("health check: database unreachable")
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def status(request):
    add_run = TaskRun.latest("add")
    beat_run = TaskRun.latest("beat")
    return JsonResponse(
        {
            "notes": [n.text for n in Note.objects.all()],
            "add": add_run.as_dict() if add_run else None,
            "beat": beat_run.as_dict() if beat_run else None,
            "servedBy": socket.gethostname(),
        }
    )
