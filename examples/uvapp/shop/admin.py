from django.contrib import admin

from .models import Item, TaskRun


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name"]


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    list_display = ["kind", "value", "host", "finished_at"]
    list_filter = ["kind"]
