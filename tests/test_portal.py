"""The agency portal: the work list, the agency's steps, and what an agency never sees."""

from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa

from tests import test_suggestion_views as base
from tests.conftest import csrf_from, login
from tests.test_suggestion_views import raise_suggestion, signed_in, text_of
from workroom.audit.models import AuditEvent
from workroom.clock import local_today, utcnow
from workroom.suggestions import lifecycle
from workroom.suggestions.models import Attachment, Suggestion

# Shared fixtures: the world of accounts and places, pages in English.
world = base.world
english = base.english

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def denied(db) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.object_id).where(AuditEvent.action == "suggestion.access_denied")
        )
    )


def test_work_list_shows_lead_and_co_handled_suggestions_only(app, client, db, world):
    lead = raise_suggestion(db, world, title="河道异味")
    elsewhere = raise_suggestion(db, world, code="urban-roads", title="路灯")
    lifecycle.assign(
        elsewhere,
        lead_agency=world["housing"],
        now=utcnow(),
        actor=world["admin"],
        reason="住建",
    )
    db.session.commit()
    login(client, world["agency1"])
    html = text_of(client.get("/agency"))
    assert lead.tracking_code in html and elsewhere.tracking_code not in html
    street = signed_in(app, world["agency_street"])
    html = text_of(street.get("/agency"))
    assert lead.tracking_code in html and "Co-handling agency" in html
    assert lead.tracking_code not in text_of(street.get("/agency?role=lead"))


def test_staff_roles_have_no_portal(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["admin"])
    assert client.get("/agency").status_code == 403
    assert client.get(f"/agency/suggestions/{s.id}").status_code == 404


def test_accept_reply_with_a_letter(client, db, world, app, tmp_path):
    app.config["ATTACHMENT_PATH"] = str(tmp_path / "files")
    s = raise_suggestion(db, world)
    login(client, world["agency1"])
    url = f"/agency/suggestions/{s.id}"
    token = csrf_from(text_of(client.get(url)))
    assert client.post(url + "/accept", data={"csrf_token": token}).status_code == 303
    again = client.post(url + "/accept", data={"csrf_token": token})
    assert again.status_code == 409
    assert "Only an assigned suggestion can be accepted." in text_of(again)

    empty = client.post(url + "/reply", data={"csrf_token": token, "reply-reply_class": "A"})
    assert empty.status_code == 400 and "Write the answer." in text_of(empty)
    fake = client.post(
        url + "/reply",
        data={
            "csrf_token": token,
            "reply-text": "已清淤。",
            "reply-reply_class": "A",
            "reply-letter": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "答复函.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400 and "is not a PDF, JPEG or PNG file" in text_of(fake)
    db.session.refresh(s)
    assert s.status == "accepted"

    done = client.post(
        url + "/reply",
        data={
            "csrf_token": token,
            "reply-text": "已完成河道清淤。",
            "reply-reply_class": "A",
            "reply-letter": (io.BytesIO(PDF), "答复函.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    db.session.refresh(s)
    assert s.status == "replied" and s.reply_class == "A"
    letter = db.session.scalar(sa.select(Attachment))
    assert letter.kind == "reply" and letter.agency_id == world["ecology"].id
    assert (tmp_path / "files" / letter.stored_name).read_bytes() == PDF
    download = client.get(f"/staff/attachments/{letter.id}")
    assert download.status_code == 200 and download.data == PDF


def test_extension_request_and_return(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["agency1"])
    url = f"/agency/suggestions/{s.id}"
    token = csrf_from(text_of(client.get(url)))
    bad = client.post(
        url + "/extension",
        data={"csrf_token": token, "extension-requested_due": "soon", "extension-reason": "x"},
    )
    assert bad.status_code == 400
    too_early = client.post(
        url + "/extension",
        data={
            "csrf_token": token,
            "extension-requested_due": s.reply_due.isoformat(),
            "extension-reason": "需要勘查",
        },
    )
    assert too_early.status_code == 400
    asked = client.post(
        url + "/extension",
        data={
            "csrf_token": token,
            "extension-requested_due": (s.reply_due + dt.timedelta(days=7)).isoformat(),
            "extension-reason": "需要勘查",
        },
    )
    assert asked.status_code == 303
    assert client.post(url + "/return", data={"csrf_token": token}).status_code == 400
    returned = client.post(url + "/return", data={"csrf_token": token, "return-reason": "非本单位"})
    assert returned.status_code == 303 and returned.headers["Location"].endswith("/agency")
    db.session.refresh(s)
    assert s.status == "triage" and s.lead_agency_id is None
    # No longer this agency's: the page answers 404 now.
    assert client.get(url).status_code == 404


def test_co_handler_sends_an_opinion_the_lead_reads(app, client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["agency_street"])
    url = f"/agency/suggestions/{s.id}"
    html = text_of(client.get(url))
    assert "/accept" not in html and "/reply" not in html
    token = csrf_from(html)
    assert client.post(url + "/accept", data={"csrf_token": token}).status_code == 409
    sent = client.post(url + "/opinion", data={"csrf_token": token, "opinion-opinion": "同意清淤"})
    assert sent.status_code == 303
    lead = signed_in(app, world["agency1"])
    assert "同意清淤" in text_of(lead.get(url))


def test_another_agencys_suggestion_is_404_and_audited(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["agency2"])
    assert client.get(f"/agency/suggestions/{s.id}").status_code == 404
    token = csrf_from(text_of(client.get("/agency")))
    assert (
        client.post(f"/agency/suggestions/{s.id}/accept", data={"csrf_token": token}).status_code
        == 404
    )
    assert client.get(f"/staff/suggestions/{s.id}").status_code == 404
    assert denied(db).count(str(s.id)) == 3
    db.session.refresh(s)
    assert s.status == "assigned"


def test_confidential_citizens_never_reach_the_agency(app, client, db, world):
    s = raise_suggestion(
        db,
        world,
        confidential=True,
        citizens=[{"visit": None, "name": "赵秘密", "phone": "13912345678"}],
    )
    open_one = raise_suggestion(
        db, world, citizens=[{"visit": None, "name": "钱公开", "phone": "13987654321"}]
    )
    lifecycle.accept(s, agency=world["ecology"], now=utcnow(), actor=None)
    lifecycle.reply(
        s, agency=world["ecology"], text="已处理", reply_class="A", now=utcnow(), actor=None
    )
    lifecycle.record_follow_up(
        s, s.citizens[0], satisfaction="satisfied", note="赵秘密表示满意", now=utcnow(), actor=None
    )
    db.session.commit()
    login(client, world["agency1"])
    pages = [
        text_of(client.get("/agency")),
        text_of(client.get(f"/agency/suggestions/{s.id}")),
        client.get("/agency?format=csv", buffered=True).get_data().decode("utf-8-sig"),
    ]
    for page in pages:
        assert "赵秘密" not in page
        assert "5678" not in page
    detail = pages[1]
    assert "The citizen asked not to be named" in detail
    assert "钱公开" in pages[2] and "139****4321" in pages[2]
    assert "Confidential" in pages[2]
    # Staff still see who it was.
    staff = signed_in(app, world["liaison"])
    assert "赵秘密" in text_of(staff.get(f"/staff/suggestions/{s.id}"))
    assert open_one.tracking_code in text_of(staff.get("/staff/suggestions"))


def test_portal_deadline_filter(client, db, world):
    today = local_today()  # the app's date (TIMEZONE), not the machine's
    late = raise_suggestion(db, world, title="逾期")
    fine = raise_suggestion(db, world, title="按时")
    late.reply_due = today - dt.timedelta(days=1)
    db.session.commit()
    login(client, world["agency1"])
    html = text_of(client.get("/agency?deadline=overdue"))
    assert late.tracking_code in html and fine.tracking_code not in html
    assert "Overdue" in html


def test_merged_duplicate_shows_as_merged(client, db, world):
    first = raise_suggestion(db, world)
    second = raise_suggestion(db, world)
    lifecycle.merge(second, into=first, now=utcnow(), actor=world["admin"])
    db.session.commit()
    login(client, world["agency1"])
    html = text_of(client.get(f"/agency/suggestions/{second.id}"))
    assert "Handled together with a similar suggestion" in html
    assert db.session.get(Suggestion, second.id).status == "merged"


def test_portal_shows_the_routing_decision_in_the_readers_language(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["agency1"])
    url = f"/agency/suggestions/{s.id}"
    english = text_of(client.get(url))
    assert "Matched: Ecology and environment × 岳塘区 → 生态环境分局" in english
    chinese = text_of(client.get(url, headers={"Accept-Language": "zh-CN"}))
    assert "匹配：生态环境 × 岳塘区 → 生态环境分局" in chinese
    assert "Matched" not in chinese


def test_portal_takes_only_its_own_filters(app, client, db, world):
    mine = raise_suggestion(db, world, title="下摄司的事")
    other_room = raise_suggestion(db, world, room="room_b", title="建设路的事")
    housing = raise_suggestion(db, world, code="urban-roads", title="路灯")
    lifecycle.assign(
        housing, lead_agency=world["housing"], now=utcnow(), actor=world["admin"], reason="住建"
    )
    db.session.commit()
    login(client, world["agency1"])
    # The staff list's filters are not the portal's: ignored, and the scope stays.
    html = text_of(
        client.get(f"/agency?workroom={world['room_b'].id}&agency={world['housing'].id}")
    )
    assert mine.tracking_code in html and other_room.tracking_code in html
    assert housing.tracking_code not in html
    # The co-handler's export follows the part it plays.
    street = signed_in(app, world["agency_street"])
    leading = street.get("/agency?role=lead&format=csv", buffered=True).get_data(as_text=True)
    both = street.get("/agency?role=co&format=csv", buffered=True).get_data(as_text=True)
    assert mine.tracking_code not in leading
    assert mine.tracking_code in both and other_room.tracking_code in both
    assert housing.tracking_code not in both
