from django.urls import path

from posts import views

urlpatterns = [
    path("", views.front_page, name="front-page"),
    path("healthz", views.healthz, name="healthz"),
    path("whoami", views.whoami, name="whoami"),
]
