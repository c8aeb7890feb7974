from django.urls import path

from notes import views

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("api/status", views.status, name="status"),
    path("upload/", views.upload, name="upload"),
    path("files/<path:name>", views.serve_file, name="file"),
]
