import pytest

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_index_lists_seeded_items(client, monkeypatch):
    monkeypatch.setattr("shop.views.add.delay", lambda *args: None)
    body = client.get("/").content.decode()
    assert '<li class="item">teapot</li>' in body
    assert '<p id="task">add=pending</p>' in body
    assert "/static/shop/site.css" in body
