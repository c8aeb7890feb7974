from django.db import migrations

# Titles the end-to-end tests expect on the front page, in this order.
POSTS = [
    ("First post from blog", "The blog is up. This post came with the first migration."),
    ("Second post from blog", "Posts are plain rows in the blog's own database."),
    ("Third post from blog", "Each visit to the front page counts the words of a short text on a Celery worker."),
]


def add_posts(apps, schema_editor):
    Post = apps.get_model("posts", "Post")
    for title, body in POSTS:
        # Safe to re-run: a post with that title already present is kept as it is.
        Post.objects.get_or_create(title=title, defaults={"body": body})


def remove_posts(apps, schema_editor):
    Post = apps.get_model("posts", "Post")
    Post.objects.filter(title__in=[title for title, _ in POSTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("posts", "0001_initial")]

    operations = [migrations.RunPython(add_posts, remove_posts)]
