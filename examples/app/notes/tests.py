"""Tests for the upload views (local storage) and the media storage settings.

Run with `python manage.py test notes`; no database, broker or S3 server needed.
"""
import os
import runpy
import shutil
import socket
import tempfile
from pathlib import Path
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, override_settings

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "fleetdemo" / "settings.py"
LOCAL_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


class UploadViewsTests(SimpleTestCase):
    def setUp(self):
        self.media = Path(tempfile.mkdtemp(prefix="fleetdemo-media-"))
        self.addCleanup(shutil.rmtree, self.media)
        override = override_settings(MEDIA_ROOT=self.media, STORAGES=LOCAL_STORAGES)
        override.enable()
        self.addCleanup(override.disable)

    def upload(self, content=b"hello\n", filename="hello.txt", **fields):
        data = dict(fields, file=SimpleUploadedFile(filename, content))
        return self.client.post("/upload/", data)

    def test_upload_stores_file_and_answers_json(self):
        response = self.upload()
        self.assertEqual(response.status_code, 201)
        self.assertEqual(
            response.json(),
            {"name": "uploads/hello.txt", "size": 6, "host": socket.gethostname()},
        )
        self.assertEqual((self.media / "uploads" / "hello.txt").read_bytes(), b"hello\n")

    def test_name_field_overrides_and_is_sanitised(self):
        response = self.upload(name="../../etc/my notes!.txt")
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["name"], "uploads/my_notes.txt")
        response = self.upload(filename="C:\\Users\\me\\report.pdf")
        self.assertEqual(response.json()["name"], "uploads/report.pdf")

    def test_long_name_is_truncated(self):
        response = self.upload(name="x" * 300 + ".txt")
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["name"], "uploads/" + "x" * 96 + ".txt")

    def test_unusable_name_is_rejected(self):
        response = self.upload(name="..")
        self.assertEqual(response.status_code, 400)
        self.assertFalse((self.media / "uploads").exists())

    def test_same_name_does_not_overwrite(self):
        first = self.upload(b"one").json()["name"]
        second = self.upload(b"two").json()["name"]
        self.assertEqual(first, "uploads/hello.txt")
        self.assertNotEqual(first, second)
        self.assertRegex(second, r"^uploads/hello_\w{7}\.txt$")
        self.assertEqual(b"".join(self.client.get(f"/files/{first}").streaming_content), b"one")
        self.assertEqual(b"".join(self.client.get(f"/files/{second}").streaming_content), b"two")

    def test_missing_file_field_is_400(self):
        response = self.client.post("/upload/", {"name": "x.txt"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("file", response.json()["error"])

    def test_upload_needs_post(self):
        self.assertEqual(self.client.get("/upload/").status_code, 405)

    def test_limit_is_five_megabytes(self):
        limit = 5 * 1024 * 1024
        self.assertEqual(self.upload(b"a" * limit).status_code, 201)
        response = self.upload(b"a" * (limit + 1))
        self.assertEqual(response.status_code, 413)

    @override_settings(UPLOAD_MAX_BYTES=10)
    def test_too_large_is_413_before_and_after_parsing(self):
        # Just over the limit: the body is parsed, then the size is checked.
        self.assertEqual(self.upload(b"a" * 11).status_code, 413)
        # Far over: refused from Content-Length alone.
        self.assertEqual(self.upload(b"a" * 200_000).status_code, 413)
        self.assertEqual(self.upload(b"a" * 10).status_code, 201)

    def test_fetch_streams_file_with_headers(self):
        name = self.upload(b"hello\n").json()["name"]
        response = self.client.get(f"/files/{name}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), b"hello\n")
        self.assertEqual(response["Content-Type"], "text/plain")
        self.assertEqual(response["Content-Length"], "6")
        self.assertEqual(response["X-Served-By"], socket.gethostname())
        self.assertIn("sandbox", response["Content-Security-Policy"])

    def test_fetch_guesses_content_type(self):
        name = self.upload(b"\x89PNG\r\n\x1a\n", filename="pic.png").json()["name"]
        self.assertEqual(self.client.get(f"/files/{name}")["Content-Type"], "image/png")

    def test_head_works(self):
        name = self.upload().json()["name"]
        response = self.client.head(f"/files/{name}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["X-Served-By"], socket.gethostname())

    def test_missing_file_is_404(self):
        self.assertEqual(self.client.get("/files/uploads/nope.txt").status_code, 404)

    def test_only_uploads_are_served(self):
        # Real files outside uploads/ (in MEDIA_ROOT and next to it) stay hidden.
        (self.media / "secret.txt").write_text("secret")
        (self.media / "uploads" / "sub").mkdir(parents=True)
        (self.media.parent / f"{self.media.name}-outside.txt").write_text("outside")
        self.addCleanup((self.media.parent / f"{self.media.name}-outside.txt").unlink)
        for path in [
            "/files/secret.txt",
            "/files/uploads/../secret.txt",
            "/files/uploads/%2e%2e/secret.txt",
            "/files/uploads/sub/../../secret.txt",
            f"/files/uploads/../../{self.media.name}-outside.txt",
            "/files/uploads/./secret.txt",
            "/files/uploads//secret.txt",
            "/files/uploads/",
            "/files/uploads",
            "/files/uploads/sub",
            "/files/uploads/..%5Csecret.txt",
            "/files/uploads/a%00b",
            f"/files/{self.media}/secret.txt",
        ]:
            with self.subTest(path=path):
                self.assertEqual(self.client.get(path).status_code, 404)


S3_ENV = {
    "DJANGO_DEBUG": "1",
    "DJANGO_MEDIA_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": "fleetdemo-media",
    "AWS_S3_ENDPOINT_URL": "https://198.18.0.1:9000",
    "AWS_S3_REGION_NAME": "us-east-1",
    "AWS_ACCESS_KEY_ID": "fleetdemo",
    "AWS_SECRET_ACCESS_KEY": "secret",
}


def load_settings(env):
    """Run fleetdemo/settings.py afresh under exactly `env`."""
    with mock.patch.dict(os.environ, env, clear=True):
        return runpy.run_path(str(SETTINGS_FILE))


class MediaStorageSettingsTests(SimpleTestCase):
    def test_local_by_default(self):
        for value in (None, "", "local", " LOCAL "):
            env = {"DJANGO_DEBUG": "1"}
            if value is not None:
                env["DJANGO_MEDIA_STORAGE"] = value
            with self.subTest(value=value):
                storages = load_settings(env)["STORAGES"]
                self.assertEqual(storages, LOCAL_STORAGES)

    def test_s3_options(self):
        default = load_settings(S3_ENV)["STORAGES"]["default"]
        self.assertEqual(default["BACKEND"], "storages.backends.s3.S3Storage")
        self.assertEqual(
            default["OPTIONS"],
            {
                "bucket_name": "fleetdemo-media",
                "endpoint_url": "https://198.18.0.1:9000",
                "region_name": "us-east-1",
                "access_key": "fleetdemo",
                "secret_key": "secret",
                "addressing_style": "path",
                "location": "media",
                "custom_domain": None,
                "default_acl": None,
                "querystring_auth": True,
                "signature_version": "s3v4",
                "file_overwrite": False,
            },
        )

    def test_s3_optional_variables(self):
        env = dict(
            S3_ENV,
            AWS_S3_ADDRESSING_STYLE="virtual",
            AWS_LOCATION="/shared/media/",
            AWS_S3_CUSTOM_DOMAIN="media.example.test",
            AWS_CA_BUNDLE="/etc/ssl/certs/test-ca.pem",
        )
        options = load_settings(env)["STORAGES"]["default"]["OPTIONS"]
        self.assertEqual(options["addressing_style"], "virtual")
        self.assertEqual(options["location"], "shared/media")
        self.assertEqual(options["custom_domain"], "media.example.test")
        self.assertEqual(options["verify"], "/etc/ssl/certs/test-ca.pem")

    def test_missing_variable_is_named(self):
        for name in (
            "AWS_STORAGE_BUCKET_NAME",
            "AWS_S3_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            env = {k: v for k, v in S3_ENV.items() if k != name}
            with self.subTest(name=name), self.assertRaisesMessage(ImproperlyConfigured, name):
                load_settings(env)
            with self.subTest(name=name, empty=True), self.assertRaisesMessage(
                ImproperlyConfigured, name
            ):
                load_settings(dict(S3_ENV, **{name: ""}))

    def test_bad_values(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "DJANGO_MEDIA_STORAGE"):
            load_settings({"DJANGO_DEBUG": "1", "DJANGO_MEDIA_STORAGE": "ftp"})
        with self.assertRaisesMessage(ImproperlyConfigured, "AWS_S3_ADDRESSING_STYLE"):
            load_settings(dict(S3_ENV, AWS_S3_ADDRESSING_STYLE="dns"))
