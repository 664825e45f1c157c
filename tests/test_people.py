"""Deputies, professional groups and agencies: staff pages, validation, scope."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from, login, post_form
from workroom.audit.models import AuditEvent
from workroom.errors import DomainError
from workroom.people import directory
from workroom.people.models import Agency, Deputy, ProfessionalGroup, Unavailability

EN = {"Accept-Language": "en"}


def _sign_in_handler(client, make_user, agency):
    # Sign-in names without an underscore: the default "agency_handlerN" is refused.
    user = make_user("agency_handler", username=f"handler{agency.id}", agency=agency)
    login(client, user)
    return user


def _deputy_data(**overrides):
    data = {
        "name": "李建国",
        "level": "county",
        "term": "第十八届",
        "constituency": "下摄司选区",
        "sector": "社区工作者",
        "phone": "",
        "email": "",
        "monthly_cap": "",
    }
    data.update(overrides)
    return data


def _actions(db, action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


# Deputies


def test_admin_creates_edits_and_deactivates_a_deputy(client, db, login_as, make_workroom):
    room = make_workroom(name="下摄司街道代表工作室")
    group = ProfessionalGroup(code="environment", name="环保代表专业小组")
    db.session.add(group)
    db.session.commit()
    login_as("admin")
    response = post_form(
        client,
        "/staff/deputies/new",
        {
            **_deputy_data(phone="１３８ ００００ ８０００", email="li@xiangtan.gov.cn"),
            "group_ids": [group.id],
            "workroom_ids": [room.id],
            "monthly_cap": "2",
        },
    )
    assert response.status_code == 302
    deputy = db.session.scalar(sa.select(Deputy).where(Deputy.name == "李建国"))
    assert deputy.phone == "13800008000"
    assert deputy.monthly_cap == 2
    assert [w.name for w in deputy.workrooms] == ["下摄司街道代表工作室"]
    assert [g.code for g in deputy.groups] == ["environment"]
    assert _actions(db, "deputy.create")

    listing = client.get("/staff/deputies").get_data(as_text=True)
    assert "李建国" in listing
    assert "138****8000" in listing and "13800008000" not in listing
    detail = client.get(f"/staff/deputies/{deputy.id}").get_data(as_text=True)
    assert "下摄司街道代表工作室" in detail and "环保代表专业小组" in detail

    edit_url = f"/staff/deputies/{deputy.id}/edit"
    form = client.get(edit_url).get_data(as_text=True)
    assert re.search(
        rf'<input checked id="workroom_ids-\d+" name="workroom_ids" type="checkbox" value="{room.id}">',
        form,
    )
    response = post_form(
        client,
        edit_url,
        {
            **_deputy_data(name="李建国", sector="教师", phone="13800008000"),
            "workroom_ids": [room.id],
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(deputy)
    assert deputy.sector == "教师" and deputy.groups == [] and deputy.active

    response = post_form(client, edit_url, {**_deputy_data(), "workroom_ids": [room.id]})
    assert response.status_code == 302
    assert ">李建国</a>" not in client.get("/staff/deputies").get_data(as_text=True)
    assert ">李建国</a>" in client.get("/staff/deputies?status=all").get_data(as_text=True)
    assert _actions(db, "deputy.deactivate")
    assert db.session.get(Deputy, deputy.id) is not None


def test_deputy_list_searches_and_filters(client, db, login_as, make_deputy, make_workroom):
    room = make_workroom(name="荷塘街道代表联络站")
    make_deputy(name="王医生", sector="医生", level="municipal", workrooms=[room])
    make_deputy(name="张老师", sector="教师", constituency="荷塘选区", level="county")
    login_as("admin")
    assert "王医生" in client.get("/staff/deputies?q=医生").get_data(as_text=True)
    text = client.get("/staff/deputies?q=荷塘选区").get_data(as_text=True)
    assert "张老师" in text and "王医生" not in text
    text = client.get("/staff/deputies?level=municipal").get_data(as_text=True)
    assert "王医生" in text and "张老师" not in text
    text = client.get(f"/staff/deputies?workroom={room.id}").get_data(as_text=True)
    assert "王医生" in text and "张老师" not in text


def test_deputy_form_errors_are_explained(client, db, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/staff/deputies/new",
        _deputy_data(
            name="", sector="长" * 101, email="not-an-email", phone="12345", monthly_cap="40"
        ),
        headers=EN,
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter a name." in text
    assert "Field cannot be longer than 100 characters." in text
    assert "Enter an email address such as name@example.com." in text
    assert "Enter a number from 1 to 31, or leave it empty for no limit." in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deputy)) == 0

    response = post_form(client, "/staff/deputies/new", _deputy_data(phone="12345"), headers=EN)
    assert response.status_code == 400
    assert "Enter a mobile number or a landline" in response.get_data(as_text=True)


def test_script_in_deputy_name_is_stored_verbatim_and_rendered_escaped(client, db, login_as):
    login_as("admin")
    name = "<script>alert(1)</script>代表"
    response = post_form(client, "/staff/deputies/new", _deputy_data(name=name))
    assert response.status_code == 302
    deputy = db.session.scalar(sa.select(Deputy))
    assert deputy.name == name
    for url in ("/staff/deputies", f"/staff/deputies/{deputy.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_liaison_sees_only_deputies_of_its_workroom(
    client, db, login_as, make_deputy, make_workroom
):
    mine, other = make_workroom(), make_workroom()
    ours = make_deputy(name="本站代表", workrooms=[mine])
    theirs = make_deputy(name="别站代表", workrooms=[other])
    login_as("liaison", workrooms=[mine])
    listing = client.get("/staff/deputies").get_data(as_text=True)
    assert "本站代表" in listing and "别站代表" not in listing
    assert client.get(f"/staff/deputies/{ours.id}").status_code == 200
    assert client.get(f"/staff/deputies/{theirs.id}").status_code == 404
    assert client.get(f"/staff/deputies/{ours.id}/edit").status_code == 404
    assert client.get("/staff/deputies/new").status_code == 403


def test_deputy_account_sees_only_itself(client, db, login_as, make_deputy, make_workroom):
    room = make_workroom()
    me = make_deputy(name="我自己", workrooms=[room])
    colleague = make_deputy(name="同事", workrooms=[room])
    login_as("deputy", deputy=me)
    listing = client.get("/staff/deputies").get_data(as_text=True)
    assert "我自己" in listing and "同事" not in listing
    assert client.get(f"/staff/deputies/{colleague.id}").status_code == 404


def test_viewer_reads_but_cannot_change(client, db, login_as, make_deputy, make_agency):
    deputy = make_deputy(name="只读代表")
    agency = make_agency(name="只读单位")
    group = ProfessionalGroup(code="agriculture", name="农业代表专业小组")
    db.session.add(group)
    db.session.commit()
    login_as("viewer")
    assert "只读代表" in client.get("/staff/deputies").get_data(as_text=True)
    assert client.get(f"/staff/deputies/{deputy.id}").status_code == 200
    assert "只读单位" in client.get("/staff/agencies").get_data(as_text=True)
    assert "农业代表专业小组" in client.get("/staff/groups").get_data(as_text=True)
    for url in ("/staff/deputies/new", "/staff/agencies/new", "/staff/groups/new"):
        assert client.get(url).status_code == 403
    for url in (
        f"/staff/deputies/{deputy.id}/edit",
        f"/staff/agencies/{agency.id}/edit",
        f"/staff/groups/{group.id}",
    ):
        assert client.get(url).status_code == 404


def test_agency_handler_has_no_deputy_pages(client, db, make_user, make_agency):
    _sign_in_handler(client, make_user, make_agency())
    assert client.get("/staff/deputies").status_code == 403


# Unavailable periods


def test_admin_adds_and_removes_an_unavailable_period(client, db, login_as, make_deputy):
    deputy = make_deputy(name="出差代表")
    login_as("admin")
    url = f"/staff/deputies/{deputy.id}"
    token_page = client.get(url)
    assert token_page.status_code == 200

    token = csrf_from(token_page.get_data(as_text=True))
    response = client.post(
        f"{url}/unavailability",
        data={
            "starts_on": "2027-03-04",
            "ends_on": "2027-03-12",
            "reason": "全国人代会",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    period = db.session.scalar(sa.select(Unavailability))
    assert (period.starts_on, period.ends_on) == (dt.date(2027, 3, 4), dt.date(2027, 3, 12))
    assert "全国人代会" in client.get(url).get_data(as_text=True)
    assert _actions(db, "unavailability.create")

    response = client.post(f"{url}/unavailability/{period.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Unavailability)) is None
    assert "全国人代会" not in client.get(url).get_data(as_text=True)
    assert _actions(db, "unavailability.delete")


def test_unavailable_period_must_not_end_before_it_starts(client, db, login_as, make_deputy):
    deputy = make_deputy()
    login_as("admin")

    url = f"/staff/deputies/{deputy.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(
        f"{url}/unavailability",
        data={"starts_on": "2027-03-12", "ends_on": "2027-03-04", "csrf_token": token},
        headers=EN,
    )
    assert response.status_code == 400
    assert "The last day cannot be before the first day." in response.get_data(as_text=True)
    response = client.post(
        f"{url}/unavailability",
        data={
            "starts_on": "2027-03-04",
            "ends_on": "2027-03-04",
            "reason": "事" * 201,
            "csrf_token": token,
        },
        headers=EN,
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(Unavailability)) is None


def test_removing_another_deputys_period_is_not_found(client, db, login_as, make_deputy):
    first, second = make_deputy(), make_deputy()
    period = directory.add_unavailability(
        second, starts_on=dt.date(2027, 5, 1), ends_on=dt.date(2027, 5, 3)
    )
    db.session.commit()
    login_as("admin")

    token = csrf_from(client.get(f"/staff/deputies/{first.id}").get_data(as_text=True))
    response = client.post(
        f"/staff/deputies/{first.id}/unavailability/{period.id}/delete",
        data={"csrf_token": token},
    )
    assert response.status_code == 404
    assert db.session.get(Unavailability, period.id) is not None


def test_liaison_cannot_change_unavailable_periods(
    client, db, login_as, make_deputy, make_workroom
):
    room = make_workroom()
    deputy = make_deputy(workrooms=[room])
    login_as("liaison", workrooms=[room])

    page = client.get(f"/staff/deputies/{deputy.id}").get_data(as_text=True)
    assert "unavailability" not in page
    response = client.post(
        f"/staff/deputies/{deputy.id}/unavailability",
        data={"starts_on": "2027-03-04", "ends_on": "2027-03-05", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 404


# Professional groups


def test_admin_manages_professional_groups(client, db, login_as):
    login_as("admin")
    response = post_form(
        client, "/staff/groups/new", {"code": "Environment", "name": "环保代表专业小组"}
    )
    assert response.status_code == 302
    group = db.session.scalar(sa.select(ProfessionalGroup))
    assert group.code == "environment"
    assert "环保代表专业小组" in client.get("/staff/groups").get_data(as_text=True)

    response = post_form(
        client, "/staff/groups/new", {"code": "environment", "name": "重复"}, headers=EN
    )
    assert response.status_code == 400
    assert "This code is already in use." in response.get_data(as_text=True)
    response = post_form(
        client, "/staff/groups/new", {"code": "环保", "name": "中文代码"}, headers=EN
    )
    assert response.status_code == 400
    assert "Use lower-case letters, digits and dashes" in response.get_data(as_text=True)

    url = f"/staff/groups/{group.id}"
    response = post_form(client, url, {"name": "生态环保小组", "code": "changed", "active": ""})
    assert response.status_code == 302
    db.session.refresh(group)
    assert (group.name, group.code, group.active) == ("生态环保小组", "environment", False)
    assert ">生态环保小组</a>" not in client.get("/staff/groups").get_data(as_text=True)
    assert ">生态环保小组</a>" in client.get("/staff/groups?status=all").get_data(as_text=True)
    assert _actions(db, "group.deactivate")


# Agencies


def test_admin_creates_edits_and_deactivates_an_agency(client, db, login_as, make_area):
    area = make_area(name="岳塘区", level="district")
    parent = directory.create_agency(code="yt-gov", name="岳塘区人民政府办公室")
    db.session.commit()
    login_as("admin")
    response = post_form(
        client,
        "/staff/agencies/new",
        {
            "code": "yt-health",
            "name": "岳塘区卫生健康局",
            "area_id": area.id,
            "contact_name": "周科长",
            "contact_phone": "０７３１－５８５８１２３４",
            "email": "health@yuetang.gov.cn",
            "supervisor_id": parent.id,
        },
    )
    assert response.status_code == 302
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == "yt-health"))
    assert agency.contact_phone == "073158581234"
    assert agency.supervisor_id == parent.id and agency.area_id == area.id
    listing = client.get("/staff/agencies?q=yt-health").get_data(as_text=True)
    assert "岳塘区卫生健康局" in listing and "073****1234" in listing
    detail = client.get(f"/staff/agencies/{agency.id}").get_data(as_text=True)
    assert "岳塘区人民政府办公室" in detail
    parent_detail = client.get(f"/staff/agencies/{parent.id}").get_data(as_text=True)
    assert "岳塘区卫生健康局" in parent_detail

    url = f"/staff/agencies/{agency.id}/edit"
    response = post_form(
        client,
        url,
        {"name": "岳塘区卫健局", "area_id": 0, "supervisor_id": 0, "code": "other"},
    )
    assert response.status_code == 302
    db.session.refresh(agency)
    assert (agency.name, agency.code, agency.supervisor_id, agency.area_id) == (
        "岳塘区卫健局",
        "yt-health",
        None,
        None,
    )
    assert agency.active is False
    assert ">岳塘区卫健局</a>" not in client.get("/staff/agencies").get_data(as_text=True)
    assert ">岳塘区卫健局</a>" in client.get("/staff/agencies?status=all").get_data(as_text=True)
    assert _actions(db, "agency.deactivate")


def test_agency_errors_duplicate_code_and_cycles(client, db, login_as, make_agency):
    top = make_agency(code="yt-gov", name="区政府办")
    middle = make_agency(code="yt-civil", name="民政局", supervisor=top)
    login_as("admin")
    response = post_form(
        client,
        "/staff/agencies/new",
        {"code": "yt-gov", "name": "", "email": "a@b", "area_id": 0, "supervisor_id": 0},
        headers=EN,
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter a name." in text
    assert "Enter an email address such as name@example.com." in text
    response = post_form(
        client,
        "/staff/agencies/new",
        {"code": "yt-gov", "name": "重复", "area_id": 0, "supervisor_id": 0},
        headers=EN,
    )
    assert response.status_code == 400
    assert "This code is already in use." in response.get_data(as_text=True)

    url = f"/staff/agencies/{top.id}/edit"
    base = {"name": "区政府办", "area_id": 0, "active": "y"}
    response = post_form(client, url, {**base, "supervisor_id": middle.id}, headers=EN)
    assert response.status_code == 400
    assert "already supervises that one" in response.get_data(as_text=True)
    response = post_form(client, url, {**base, "supervisor_id": top.id}, headers=EN)
    assert response.status_code == 400
    assert "An agency cannot supervise itself." in response.get_data(as_text=True)
    db.session.refresh(top)
    assert top.supervisor_id is None


def test_agency_handler_sees_only_its_agency(client, db, make_user, make_agency):
    mine = make_agency(name="我的单位")
    other = make_agency(name="别的单位")
    _sign_in_handler(client, make_user, mine)
    listing = client.get("/staff/agencies").get_data(as_text=True)
    assert "我的单位" in listing and "别的单位" not in listing
    assert client.get(f"/staff/agencies/{mine.id}").status_code == 200
    assert client.get(f"/staff/agencies/{other.id}").status_code == 404
    assert client.get(f"/staff/agencies/{mine.id}/edit").status_code == 404
    assert client.get("/staff/agencies/new").status_code == 403


def test_domain_functions_enforce_the_rules(app, db, make_deputy):
    deputy = make_deputy()
    # Messages are lazy translations: resolving them needs a locale, hence a request.
    with app.test_request_context():
        with pytest.raises(DomainError) as error:
            directory.add_unavailability(
                deputy, starts_on=dt.date(2027, 1, 5), ends_on=dt.date(2027, 1, 4)
            )
        assert error.value.field == "ends_on"
        with pytest.raises(DomainError) as error:
            directory.create_deputy(name="代表", level="galactic")
        assert error.value.field == "level"
        with pytest.raises(DomainError) as error:
            directory.create_deputy(name="代表", level="county", monthly_cap=0)
        assert error.value.field == "monthly_cap"
        a = directory.create_agency(code="a", name="甲")
        b = directory.create_agency(code="b", name="乙", supervisor=a)
        c = directory.create_agency(code="c", name="丙", supervisor=b)
        with pytest.raises(DomainError) as error:
            directory.update_agency(
                a,
                name="甲",
                area=None,
                contact_name="",
                contact_phone="",
                email="",
                supervisor=c,
                active=True,
            )
        assert error.value.field == "supervisor_id"
