from django.db import models
from django.utils import timezone


class Item(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class TaskRun(models.Model):
    """A finished Celery task, saved by the task itself so the web tier can
    show results without a Celery result backend."""

    kind = models.CharField(max_length=20)  # "add" or "beat"
    value = models.IntegerField(null=True, blank=True)
    host = models.CharField(max_length=255)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "-finished_at"], name="shop_taskrun_latest")]

    def __str__(self):
        return f"{self.kind}={self.value} on {self.host}"

    @classmethod
    def latest(cls, kind):
        return cls.objects.filter(kind=kind).order_by("-finished_at", "-id").first()

    def as_dict(self):
        return {"kind": self.kind, "value": self.value, "host": self.host, "finishedAt": self.finished_at.isoformat()}
