from django.db import migrations

SEED = ["alpha", "beta", "gamma"]


def seed(apps, schema_editor):
    Note = apps.get_model("notes", "Note")
    # get_or_create keeps it idempotent if rows were added by hand first.
    for text in SEED:
        Note.objects.get_or_create(text=text)


def unseed(apps, schema_editor):
    apps.get_model("notes", "Note").objects.filter(text__in=SEED).delete()


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
