"""Areas and workrooms: staff pages, validation, scope."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import post_form
from workroom.audit.models import AuditEvent
from workroom.places.models import Workroom


def test_admin_creates_workroom_and_sees_it_listed(client, db, login_as, make_area):
    street = make_area(name="下摄司街道")
    login_as("admin")
    response = post_form(
        client,
        "/staff/workrooms/new",
        {
            "name": "下摄司街道代表工作室",
            "slug": "xiasheshi",
            "area_id": street.id,
            "address": "岳塘区",
            "phone": "０７３１-５８５８１２３４",
            "liaison_hours": "09:00-12:00，14:30-17:30",
        },
    )
    assert response.status_code == 302
    workroom = db.session.scalar(sa.select(Workroom).where(Workroom.slug == "xiasheshi"))
    assert workroom.phone == "073158581234"
    assert workroom.liaison_hours == "09:00-12:00,14:30-17:30"
    listing = client.get("/staff/workrooms").get_data(as_text=True)
    assert "下摄司街道代表工作室" in listing
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "workroom.create"))


def test_workroom_form_errors_are_explained(client, db, login_as, make_area, make_workroom):
    make_workroom(slug="taken")
    street = make_area()
    login_as("admin")
    response = post_form(
        client,
        "/staff/workrooms/new",
        {"name": "", "slug": "Taken!", "area_id": street.id, "liaison_hours": "morning"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter a name." in text


def test_script_in_name_is_stored_verbatim_and_rendered_escaped(client, db, login_as, make_area):
    street = make_area()
    login_as("admin")
    name = "<script>alert(1)</script>工作室"
    response = post_form(
        client, "/staff/workrooms/new", {"name": name, "slug": "xss-room", "area_id": street.id}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Workroom.name).where(Workroom.slug == "xss-room")) == name
    page = client.get("/staff/workrooms").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_liaison_sees_only_its_workrooms(client, db, login_as, make_workroom):
    mine = make_workroom(name="我的工作室")
    other = make_workroom(name="别人的工作室")
    login_as("liaison", workrooms=[mine])
    listing = client.get("/staff/workrooms").get_data(as_text=True)
    assert "我的工作室" in listing and "别人的工作室" not in listing
    assert client.get(f"/staff/workrooms/{mine.id}").status_code == 200
    assert client.get(f"/staff/workrooms/{other.id}").status_code == 404
    assert client.get(f"/staff/workrooms/{mine.id}/edit").status_code == 404
