import logging
import socket

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .models import Item, TaskRun
from .tasks import add

log = logging.getLogger(__name__)


@never_cache
def index(request):
    # Each GET queues a task: web -> broker -> worker -> database. Its result
    # shows on a later view. A broker outage is logged, not a failed page.
    if request.method == "GET":
        try:
            add.delay(2, 3)
        except Exception:
            log.exception("could not enqueue add task")
    try:
        cache.add("page-views", 0)
        page_views = cache.incr("page-views")
    except Exception:
        log.exception("cache unavailable")
        page_views = None
    return render(
        request,
        "shop/index.html",
        {
            "items": Item.objects.all(),
            "add": TaskRun.latest("add"),
            "beat": TaskRun.latest("beat"),
            "served_by": socket.gethostname(),
            "cache_backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
            "page_views": page_views,
        },
    )


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        log.exception("health check: database unreachable")
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def status(request):
    add_run, beat_run = TaskRun.latest("add"), TaskRun.latest("beat")
    return JsonResponse(
        {
            "items": [item.name for item in Item.objects.all()],
            "add": add_run.as_dict() if add_run else None,
            "beat": beat_run.as_dict() if beat_run else None,
            "servedBy": socket.gethostname(),
        }
    )
