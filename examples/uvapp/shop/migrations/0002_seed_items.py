from django.db import migrations

SEED = ["teapot", "kettle", "mug"]


def seed(apps, schema_editor):
    Item = apps.get_model("shop", "Item")
    for name in SEED:
        Item.objects.get_or_create(name=name)


def unseed(apps, schema_editor):
    apps.get_model("shop", "Item").objects.filter(name__in=SEED).delete()


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
