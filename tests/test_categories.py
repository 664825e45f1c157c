"""The category taxonomy: staff pages, validation, the two-level rule."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import login, post_form
from workroom.audit.models import AuditEvent
from workroom.categories import catalog
from workroom.categories.models import Category
from workroom.errors import DomainError

EN = {"Accept-Language": "en"}


def _category(db, code):
    return db.session.scalar(sa.select(Category).where(Category.code == code))


def test_seeded_tree_is_listed_read_only_for_a_viewer(client, db, login_as):
    login_as("viewer")
    page = client.get("/staff/categories", headers=EN).get_data(as_text=True)
    for code in ("urban", "environment", "health", "social-security", "other"):
        assert f"<code>{code}</code>" in page
    assert "community-safety" in page
    assert "New category" not in page


def test_admin_creates_edits_and_deactivates_a_category(client, db, login_as):
    urban = _category(db, "urban")
    login_as("admin")
    response = post_form(
        client,
        "/staff/categories/new",
        {
            "code": "Urban-Parking",
            "label_zh": "停车难",
            "label_en": "Parking",
            "parent_id": urban.id,
            "position": "7",
        },
    )
    assert response.status_code == 302
    parking = _category(db, "urban-parking")
    assert (parking.parent_id, parking.position, parking.active) == (urban.id, 7, True)
    assert "停车难" in client.get("/staff/categories").get_data(as_text=True)
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "category.create"))

    url = f"/staff/categories/{parking.id}"
    response = post_form(
        client,
        url,
        {"label_zh": "停车位紧张", "label_en": "Parking spaces", "position": "2", "code": "x"},
    )
    assert response.status_code == 302
    db.session.refresh(parking)
    assert (parking.label_zh, parking.code, parking.position, parking.active) == (
        "停车位紧张",
        "urban-parking",
        2,
        False,
    )
    assert ">停车位紧张</a>" not in client.get("/staff/categories").get_data(as_text=True)
    assert ">停车位紧张</a>" in client.get("/staff/categories?status=all").get_data(as_text=True)
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "category.deactivate")
    )


def test_top_level_category_without_parent(client, db, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/staff/categories/new",
        {"code": "culture", "label_zh": "文化体育", "label_en": "Culture and sport"},
    )
    assert response.status_code == 302
    culture = _category(db, "culture")
    assert culture.parent_id is None and culture.position == 0


def test_category_form_errors_are_explained(client, db, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/staff/categories/new",
        {"code": "urban", "label_zh": "", "label_en": "E" * 81, "position": "0"},
        headers=EN,
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter the Chinese label." in text
    assert "Field cannot be longer than 80 characters." in text

    response = post_form(
        client,
        "/staff/categories/new",
        {"code": "urban", "label_zh": "重复", "label_en": "Duplicate"},
        headers=EN,
    )
    assert response.status_code == 400
    assert "This code is already in use." in response.get_data(as_text=True)

    response = post_form(
        client,
        "/staff/categories/new",
        {"code": "城建", "label_zh": "中文", "label_en": "Chinese"},
        headers=EN,
    )
    assert response.status_code == 400
    assert "Use lower-case letters, digits and dashes" in response.get_data(as_text=True)


def test_script_in_label_is_stored_verbatim_and_rendered_escaped(client, db, login_as):
    login_as("admin")
    label = "<script>alert(1)</script>其他"
    response = post_form(
        client,
        "/staff/categories/new",
        {"code": "xss", "label_zh": label, "label_en": "XSS"},
    )
    assert response.status_code == 302
    assert _category(db, "xss").label_zh == label
    page = client.get("/staff/categories").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_categories_are_two_levels_deep(app, client, db, login_as):
    sub = _category(db, "community-safety")
    login_as("admin")
    response = post_form(
        client,
        "/staff/categories/new",
        {
            "code": "fire-doors",
            "label_zh": "消防通道",
            "label_en": "Fire exits",
            "parent_id": sub.id,
        },
        headers=EN,
    )
    assert response.status_code == 400
    assert "Categories are two levels deep" in response.get_data(as_text=True)
    assert _category(db, "fire-doors") is None
    # Messages are lazy translations: resolving them needs a locale, hence a request.
    with app.test_request_context(), pytest.raises(DomainError) as error:
        catalog.create_category(code="fire-doors", label_zh="消防通道", label_en="Fire", parent=sub)
    assert error.value.field == "parent_id"


def test_viewer_cannot_change_categories(client, db, login_as):
    urban = _category(db, "urban")
    login_as("viewer")
    assert client.get("/staff/categories/new").status_code == 403
    assert client.get(f"/staff/categories/{urban.id}").status_code == 404


def test_an_agency_handler_may_read_categories(client, db, make_user, make_agency):
    # Sign-in names without an underscore: the default "agency_handlerN" is refused.
    login(client, make_user("agency_handler", username="handler1", agency=make_agency()))
    assert "urban" in client.get("/staff/categories").get_data(as_text=True)
    assert client.get("/staff/categories/new").status_code == 403
