import logging
import socket

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .models import Post, TaskRun
from .tasks import wordcount

log = logging.getLogger(__name__)

APP_NAME = "blog"


@never_cache
def front_page(request):
    if request.method == "GET":
        # Every view sends a task through broker and worker; its result shows
        # on a later view. The page must survive a broker outage: log it only.
        try:
            wordcount.delay("one two three four")
        except Exception:
            log.exception("could not queue the wordcount task")
    return render(
        request,
        "posts/index.html",
        {
            "app_name": APP_NAME,
            "posts": Post.objects.all(),
            "wordcount": TaskRun.latest("wordcount"),
            "tick": TaskRun.latest("tick"),
            "served_by": socket.gethostname(),
        },
    )


# ATOMIC_REQUESTS would open a transaction, and so connect, before the view runs:
# a database outage would then be a 500 instead of this view's 503.
@transaction.non_atomic_requests
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.exception("healthz: no database")
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@transaction.non_atomic_requests
@never_cache
def whoami(request):
    """Which app answered and which database it uses (apps side by side must not share one)."""
    db = connection.settings_dict
    return JsonResponse({"app": APP_NAME, "database": str(db["NAME"]), "user": db["USER"]})
