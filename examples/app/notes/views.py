import logging
import posixpath
import socket

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

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


# Uploads live under this prefix of the default storage (MEDIA_ROOT, or the
# bucket's AWS_LOCATION with DJANGO_MEDIA_STORAGE=s3); /files/ serves nothing else.
UPLOAD_DIR = "uploads"
# Longest stored file name in UTF-8 bytes, before any collision suffix;
# well under the 255-byte limit of Linux file systems.
MAX_NAME_BYTES = 100


def _truncate_utf8(text, limit):
    return text.encode()[:limit].decode(errors="ignore")


def safe_upload_name(raw):
    """The client's file name reduced to one safe path component.

    Drops any directories (browsers may send C:\\dir\\file.txt), then applies
    the storage's get_valid_name (spaces to underscores, only -, _, . and word
    characters). Raises SuspiciousFileOperation when nothing usable is left.
    """
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = default_storage.get_valid_name(base)
    root, ext = posixpath.splitext(name)
    ext = _truncate_utf8(ext, 16)
    name = _truncate_utf8(root, MAX_NAME_BYTES - len(ext.encode())) + ext
    if name in ("", ".", ".."):
        raise SuspiciousFileOperation(f"could not derive a file name from {raw!r}")
    return name


def is_upload_name(name):
    """True for uploads/<name>[/...] without empty, '.' or '..' parts."""
    if "\\" in name or "\x00" in name:
        return False
    parts = name.split("/")
    return len(parts) >= 2 and parts[0] == UPLOAD_DIR and all(p not in ("", ".", "..") for p in parts)


def _too_large(limit):
    return JsonResponse({"error": f"file larger than {limit} bytes"}, status=413)


@csrf_exempt
@require_POST
def upload(request):
    """Store multipart field `file` as uploads/<name>; answers 201 with JSON."""
    limit = settings.UPLOAD_MAX_BYTES
    # Refuse clearly oversized bodies before Django spools them to disk;
    # the slack covers the multipart boundaries and the other fields.
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + 64 * 1024:
        return _too_large(limit)

    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "missing multipart field 'file'"}, status=400)
    if upload.size > limit:
        return _too_large(limit)
    try:
        name = safe_upload_name(request.POST.get("name") or upload.name or "")
    except SuspiciousFileOperation:
        return JsonResponse({"error": "invalid file name"}, status=400)

    # Never overwrites: a taken name gets a random suffix (both storages).
    stored = default_storage.save(f"{UPLOAD_DIR}/{name}", upload)
    log.info("stored upload %s (%d bytes)", stored, upload.size)
    return JsonResponse(
        {"name": stored, "size": upload.size, "host": socket.gethostname()}, status=201
    )


@require_safe
def serve_file(request, name):
    """Stream an upload from the default storage (GET and HEAD)."""
    if not is_upload_name(name):
        raise Http404("no such file")
    try:
        f = default_storage.open(name, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise Http404("no such file")
    # Content-Type is guessed from the name; Content-Length from the file.
    response = FileResponse(f, filename=posixpath.basename(name))
    response["X-Served-By"] = socket.gethostname()
    # Uploaded HTML or SVG must not run scripts on this site's origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
