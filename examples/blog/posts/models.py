from django.db import models
from django.utils import timezone


class Post(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title


class TaskRun(models.Model):
    """A Celery task that finished, written by the task itself, so the site
    shows task results without a Celery result backend."""

    kind = models.CharField(max_length=20)  # "wordcount" or "tick"
    value = models.IntegerField(null=True, blank=True)
    host = models.CharField(max_length=255)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "-finished_at"], name="posts_run_kind_newest")]

    def __str__(self):
        return f"{self.kind}={self.value} on {self.host}"

    @classmethod
    def latest(cls, kind):
        """The newest run of this kind, or None."""
        return cls.objects.filter(kind=kind).order_by("-finished_at", "-id").first()
