"""Routes opened by a secret in the URL or a form: the reply links in reminders
(``/r/<token>``), deputies' private calendar feeds, pending roster imports, kiosk pairing
codes and kiosk credentials.

For each, a valid secret works, and every secret that opens nothing gets one answer:
wrong (random, or one character off), malformed (cut short, too long, odd characters,
percent-encoded junk), expired, and revoked as the application revokes it. Same status,
same page apart from CSRF tokens and the echo of the address, in Chinese by default
and in English on request; never which case it was, never a 500.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import secrets
import string
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import IsolatedClient, csrf_from, login, post_form
from tests.test_public_schedule import add_day
from workroom.people.models import Deputy
from workroom.schedule import changes, feeds, tokens
from workroom.schedule.models import Assignment
from workroom.schedule.reminders import response_links
from workroom.visits import kiosk_auth
from workroom.visits.models import Kiosk

# Monday 2 March 2026, 10:00 in Shanghai; the reception day is the Tuesday after next.
NOW = dt.datetime(2026, 3, 2, 2, 0)
DAY = dt.date(2026, 3, 10)
LATER = NOW + dt.timedelta(hours=1)

LANGS = {"zh": {}, "en": {"Accept-Language": "en"}}
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
URL_SAFE = string.ascii_letters + string.digits + "-_"

# Every route whose URL carries a secret, and the test of it. Kiosk pairing codes and
# credentials travel in a form, a cookie and a header: tested below too.
SECRET_ROUTES = {
    "public.respond": "test_reply_links_that_open_nothing_answer_alike",
    "public.deputy_feed": "test_feed_links_that_open_nothing_answer_alike",
    "roster_import.preview": "test_import_tokens_that_open_nothing_answer_alike",
    "roster_import.confirm": "test_import_tokens_that_open_nothing_answer_alike",
    # Answered only with the phone's last 4 digits: tests/test_tracking.py.
    "tracking.api_track": "tests/test_tracking.py",
}


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Data is built at NOW and links are signed and checked against the clock."""
    time_machine.move_to(NOW.replace(tzinfo=dt.UTC), tick=True)
    return time_machine


@pytest.fixture(autouse=True)
def browsers(app):
    """Each ``app.test_client()`` is a browser of its own, its requests in contexts of
    their own (see IsolatedClient)."""
    app.test_client_class = IsolatedClient


def move_clock(clock, moment: dt.datetime) -> None:
    clock.move_to(moment.replace(tzinfo=dt.UTC), tick=True)


def say(lang: str, message: str) -> str:
    with force_locale(LOCALES[lang]):
        return gettext(message)


def test_every_secret_route_is_covered(app):
    routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.arguments & {"token", "code", "secret", "credential"}
    }
    assert routes == set(SECRET_ROUTES)


# Answers compared


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    location: str | None
    cache_control: str | None
    body: str


_VARYING = (
    # A CSRF token is new in every session.
    (re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"'), r'\1"'),
    # The language switch returns to the address asked for.
    (re.compile(r'(name="next" value=")[^"]*"'), r'\1"'),
    # A form shows back what was typed into it.
    (re.compile(r'(<input[^>]*name="code"[^>]*value=")[^"]*"'), r'\1"'),
)


def answer(response) -> Answer:
    if response.is_json:
        body = json.dumps(response.get_json(), ensure_ascii=False, sort_keys=True)
    else:
        body = response.get_data(as_text=True)
    for pattern, replacement in _VARYING:
        body = pattern.sub(replacement, body)
    return Answer(
        status=response.status_code,
        content_type=response.content_type,
        location=response.headers.get("Location"),
        cache_control=response.headers.get("Cache-Control"),
        body=body,
    )


def random_like(secret: str, alphabet: str = URL_SAFE) -> str:
    """A secret of the same length and alphabet, not the one given."""
    while True:
        other = "".join(secrets.choice(alphabet) for _ in secret)
        if other != secret:
            return other


def one_character_off(secret: str) -> str:
    last = secret[-1]
    return secret[:-1] + ("A" if last != "A" else "B")


# Wrong and malformed forms of a secret that travels in an address, a cookie or a header;
# each takes the route's world (its valid ``secret`` and the ``alphabet`` secrets use).
URL_CASES: dict[str, Callable[[Any], str]] = {
    "random": lambda w: random_like(w.secret, w.alphabet),
    "one_character_off": lambda w: one_character_off(w.secret),
    "cut_short": lambda w: w.secret[:5],
    "too_long": lambda w: (w.secret * 100)[:3000],
    "odd_characters": lambda w: quote("代表<script>'\"&;", safe=""),
    "percent_junk": lambda w: "%00%FF%ED%B3%BF%0D%0A%25",
    "double_encoded": lambda w: quote(quote(w.secret + "/", safe=""), safe=""),
}


def world(app, db, clock, secret: str, alphabet: str = URL_SAFE, **more: Any) -> SimpleNamespace:
    return SimpleNamespace(app=app, db=db, clock=clock, secret=secret, alphabet=alphabet, **more)


def reference(w: SimpleNamespace) -> str:
    """The secret every other answer is compared with: a random one."""
    return random_like(w.secret, w.alphabet)


# Reply links in reminders: /r/<token>


@pytest.fixture
def reply(app, db, clock, make_workroom, make_deputy):
    """A published day with 李秀英 and 张建国 on duty; 张建国's confirm link (his
    assignment is the newest row, the one whose id SQLite hands out again)."""
    room = make_workroom(name="下摄司街道代表工作室", slug="xiasheshi", phone="073158581234")
    li = make_deputy(name="李秀英", workrooms=[room])
    zhang = make_deputy(name="张建国", workrooms=[room])
    wang = make_deputy(name="王代替", workrooms=[room])
    day = add_day(db, room, DAY, [li, zhang])
    assignment = next(a for a in day.assignments if a.deputy_id == zhang.id)
    token = response_links(assignment)["confirm"].split("/r/")[1]
    return world(
        app,
        db,
        clock,
        token,
        URL_SAFE + ".",
        day=day,
        zhang=zhang,
        wang=wang,
        assignment_id=assignment.id,
    )


def _forged(w: Any) -> str:
    data = tokens._serializer().loads(w.secret)
    return URLSafeTimedSerializer("not-the-secret", salt=tokens._SALT).dumps(data)


def _link_expired(w: Any) -> str:
    move_clock(w.clock, NOW + dt.timedelta(days=tokens.DEFAULT_LINK_MAX_AGE_DAYS, hours=1))
    return w.secret


def _removed(w: Any) -> str:
    move_clock(w.clock, LATER)
    changes.remove_deputy(w.day, w.zhang, LATER)
    w.db.session.commit()
    return w.secret


def _replaced(w: Any) -> str:
    move_clock(w.clock, LATER)
    changes.replace_deputy(w.day, w.zhang, w.wang, LATER)
    w.db.session.commit()
    return w.secret


def _removed_then_added_again(w: Any) -> str:
    _removed(w)
    changes.add_deputy(w.day, w.db.session.get(Deputy, w.zhang.id), LATER)
    w.db.session.commit()
    return w.secret


# A cancelled day is not a dead link: its deputy is told of the cancellation
# (tests/test_reminders.py).
REPLY_CASES: dict[str, Callable[[Any], str]] = {
    **URL_CASES,
    "signed_with_another_key": _forged,
    "encoded_slash": lambda w: w.secret[:10] + "%2F" + w.secret[10:],
    "trailing_slash": lambda w: w.secret + "/",
    "expired": _link_expired,
    "assignment_removed": _removed,
    "deputy_replaced": _replaced,
    "removed_then_added_again": _removed_then_added_again,
}


def probe_reply(app, token: str, lang: str) -> tuple[Answer, Answer]:
    """GET and POST (with a valid CSRF token) the link, from a fresh browser."""
    client = app.test_client()
    page = client.get(f"/r/{token}", headers=LANGS[lang])
    posted = client.post(
        f"/r/{token}",
        data={"csrf_token": csrf_from(page.get_data(as_text=True))},
        headers=LANGS[lang],
    )
    return answer(page), answer(posted)


@pytest.mark.parametrize("lang", LANGS)
def test_a_reply_link_opens_its_day(reply, lang):
    page, _posted = probe_reply(reply.app, reply.secret, lang)
    assert page.status == 200
    assert "张建国" in page.body and say(lang, "Yes, I will attend") in page.body


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", REPLY_CASES)
def test_reply_links_that_open_nothing_answer_alike(reply, case, lang):
    got = probe_reply(reply.app, REPLY_CASES[case](reply), lang)
    assert got == probe_reply(reply.app, reference(reply), lang)
    page, posted = got
    assert page.status == posted.status == 404
    assert say(lang, "This link does not work") in page.body
    assert "张建国" not in page.body and "王代替" not in page.body
    statuses = reply.db.session.scalars(sa.select(Assignment.status)).all()
    assert statuses and set(statuses) == {"assigned"}


def test_an_old_link_never_opens_the_day_of_the_deputy_who_took_the_place(reply):
    db = reply.db
    _replaced(reply)
    newcomer = db.session.scalar(sa.select(Assignment).where(Assignment.deputy_id == reply.wang.id))
    if db.engine.dialect.name == "sqlite":
        # The deleted row's id goes to the newcomer: the id alone cannot tell them apart.
        assert newcomer.id == reply.assignment_id
    page, posted = probe_reply(reply.app, reply.secret, "zh")
    assert page.status == posted.status == 404
    assert db.session.get(Assignment, newcomer.id).status == "assigned"
    # The newcomer's own link, signed after the change, works.
    fresh = response_links(newcomer)["confirm"].split("/r/")[1]
    page, _posted = probe_reply(reply.app, fresh, "zh")
    assert page.status == 200 and "王代替" in page.body


# Private calendar feeds: /feeds/deputy/<token>.ics


@pytest.fixture
def feed(app, db, clock, make_workroom, make_deputy):
    room = make_workroom(name="下摄司街道代表工作室", slug="xiasheshi")
    zhang = make_deputy(name="张建国", workrooms=[room])
    add_day(db, room, DAY, [zhang])
    token = feeds.issue_feed_token(zhang, NOW)
    db.session.commit()
    return world(app, db, clock, token, zhang=zhang)


def _rotated(w: Any) -> str:
    feeds.issue_feed_token(w.db.session.get(Deputy, w.zhang.id), LATER)
    w.db.session.commit()
    return w.secret


def _feed_revoked(w: Any) -> str:
    assert feeds.revoke_feed_token(w.db.session.get(Deputy, w.zhang.id), LATER)
    w.db.session.commit()
    return w.secret


def _deputy_left(w: Any) -> str:
    w.db.session.get(Deputy, w.zhang.id).active = False
    w.db.session.commit()
    return w.secret


# Feed links do not expire: they stop when replaced or revoked, or when the deputy leaves.
FEED_CASES: dict[str, Callable[[Any], str]] = {
    **URL_CASES,
    "encoded_slash": lambda w: w.secret[:10] + "%2F" + w.secret[10:],
    "replaced_by_a_new_link": _rotated,
    "revoked": _feed_revoked,
    "deputy_inactive": _deputy_left,
}


def probe_feed(app, token: str, lang: str) -> Answer:
    # Calendar apps send no language: an English feed link carries ?lang=en.
    query = "?lang=en" if lang == "en" else ""
    return answer(app.test_client().get(f"/feeds/deputy/{token}.ics{query}"))


@pytest.mark.parametrize("lang", LANGS)
def test_a_feed_link_serves_the_calendar(feed, lang):
    got = probe_feed(feed.app, feed.secret, lang)
    assert got.status == 200 and got.content_type == "text/calendar; charset=utf-8"
    assert "张建国" in got.body


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", FEED_CASES)
def test_feed_links_that_open_nothing_answer_alike(feed, case, lang):
    got = probe_feed(feed.app, FEED_CASES[case](feed), lang)
    assert got == probe_feed(feed.app, reference(feed), lang)
    assert got.status == 404
    assert say(lang, "Page not found") in got.body and "张建国" not in got.body


# Pending roster imports: /staff/deputies/import/<token>[/confirm]

ROSTER = "姓名,层级\n李建国,县\n".encode()


def upload_roster(client) -> str:
    """Upload a one-row roster; the token of its preview."""
    response = post_form(
        client,
        "/staff/deputies/import",
        {"file": (io.BytesIO(ROSTER), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[1]


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


@pytest.fixture
def pending(app, db, clock, make_user):
    admin = make_user("admin")
    token = upload_roster(signed_in(app, admin))
    return world(app, db, clock, token, admin=admin, make_user=make_user)


def _import_expired(w: Any) -> str:
    minutes = w.app.config.get("IMPORT_PREVIEW_MINUTES", 30)
    move_clock(w.clock, NOW + dt.timedelta(minutes=minutes, seconds=5))
    return w.secret


def _imported(w: Any) -> str:
    client = signed_in(w.app, w.admin)
    url = f"/staff/deputies/import/{w.secret}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    assert client.post(f"{url}/confirm", data={"csrf_token": token}).status_code == 200
    return w.secret


def _someone_elses(w: Any) -> str:
    return upload_roster(signed_in(w.app, w.make_user("admin")))


# A "/" in the token makes another address, not this route's to answer.
IMPORT_CASES: dict[str, Callable[[Any], str]] = {
    **URL_CASES,
    "expired": _import_expired,
    "already_imported": _imported,
    "another_users_upload": _someone_elses,
}


def probe_import(w: Any, token: str, lang: str) -> tuple[Answer, Answer]:
    client = signed_in(w.app, w.admin)
    url = f"/staff/deputies/import/{token}"
    page = client.get(url, headers=LANGS[lang])
    posted = client.post(
        f"{url}/confirm",
        data={"csrf_token": csrf_from(page.get_data(as_text=True))},
        headers=LANGS[lang],
    )
    return answer(page), answer(posted)


def _deputies(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Deputy))


@pytest.mark.parametrize("lang", LANGS)
def test_an_import_token_opens_its_preview(pending, lang):
    page, _posted = probe_import(pending, pending.secret, lang)
    assert page.status == 200 and "李建国" in page.body


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", IMPORT_CASES)
def test_import_tokens_that_open_nothing_answer_alike(pending, case, lang):
    token = IMPORT_CASES[case](pending)
    deputies = _deputies(pending.db)
    got = probe_import(pending, token, lang)
    assert got == probe_import(pending, reference(pending), lang)
    page, posted = got
    assert page.status == posted.status == 404
    gone = say(lang, "This import has expired or does not exist. Upload the file again.")
    assert gone in page.body and "李建国" not in page.body
    assert _deputies(pending.db) == deputies


# Kiosk pairing codes: POST /kiosk/pair


@pytest.fixture
def kiosk(app, db, clock, make_workroom):
    app.config.update(KIOSK_PAIR_LIMIT="1000 per minute", CHECKIN_RATE_LIMIT="1000 per minute")
    room = make_workroom(name="下摄司街道代表工作室", slug="xiasheshi")
    kiosk, code = kiosk_auth.register_kiosk(room, "入口平板", NOW)
    db.session.commit()
    return world(app, db, clock, code, kiosk_auth.PAIRING_ALPHABET, kiosk=kiosk)


def pair(app, code: str, lang: str = "zh"):
    return post_form(app.test_client(), "/kiosk/pair", {"code": code}, headers=LANGS[lang])


def _the_kiosk(w: Any) -> Kiosk:
    return w.db.session.get(Kiosk, w.kiosk.id)


def _code_expired(w: Any) -> str:
    minutes = w.app.config.get("KIOSK_PAIRING_MINUTES", 15)
    move_clock(w.clock, NOW + dt.timedelta(minutes=minutes, seconds=5))
    return w.secret


def _code_used(w: Any) -> str:
    assert pair(w.app, w.secret).status_code == 302
    return w.secret


def _code_replaced(w: Any) -> str:
    kiosk_auth.new_pairing_code(_the_kiosk(w), LATER)
    w.db.session.commit()
    return w.secret


def _kiosk_revoked(w: Any) -> str:
    kiosk_auth.revoke_kiosk(_the_kiosk(w), LATER)
    w.db.session.commit()
    return w.secret


# Typed, not in an address: odd text goes in as it is. Text longer than the field's 20
# characters is refused by the form's length check before any code is looked up.
PAIRING_CASES: dict[str, Callable[[Any], str]] = {
    "random": reference,
    "one_character_off": lambda w: one_character_off(w.secret),
    "cut_short": lambda w: w.secret[:5],
    "as_long_as_the_field": lambda w: (w.secret * 3)[:20],
    "odd_characters": lambda w: "代表<script>'\"&;",
    "percent_junk": lambda w: "%00%FF%0D%0A",
    "expired": _code_expired,
    "used": _code_used,
    "replaced_by_a_new_code": _code_replaced,
    "kiosk_revoked": _kiosk_revoked,
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_pairing_code_pairs_the_tablet(kiosk, lang):
    response = pair(kiosk.app, kiosk_auth.format_pairing_code(kiosk.secret).lower(), lang)
    assert response.status_code == 302 and response.headers["Location"].endswith("/kiosk")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", PAIRING_CASES)
def test_pairing_codes_that_pair_nothing_answer_alike(kiosk, case, lang):
    got = answer(pair(kiosk.app, PAIRING_CASES[case](kiosk), lang))
    assert got == answer(pair(kiosk.app, reference(kiosk), lang))
    assert got.status == 400
    assert say(lang, "This pairing code is wrong or has expired. Ask for a new code.") in got.body


# Kiosk credentials: the cookie of /kiosk and the header of the check-in API


@pytest.fixture
def paired(kiosk):
    response = pair(kiosk.app, kiosk.secret)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    credential = re.match(rf"{kiosk_auth.COOKIE_NAME}=([^;]+);", cookie).group(1)
    return world(kiosk.app, kiosk.db, kiosk.clock, credential, URL_SAFE + ".", kiosk=kiosk.kiosk)


def _paired_again(w: Any) -> str:
    code = kiosk_auth.new_pairing_code(_the_kiosk(w), LATER)
    w.db.session.commit()
    assert pair(w.app, code).status_code == 302
    return w.secret


# Credentials do not expire; pairing again or revoking stops the older ones.
CREDENTIAL_CASES: dict[str, Callable[[Any], str]] = {
    **URL_CASES,
    "paired_again": _paired_again,
    "revoked": _kiosk_revoked,
}


def probe_kiosk(app, credential: str, lang: str) -> tuple[Answer, bool, Answer]:
    """/kiosk with the credential as its cookie (the answer, and whether the cookie was
    cleared), and a check-in sent with it as the API header."""
    client = app.test_client()
    client.set_cookie(kiosk_auth.COOKIE_NAME, credential)
    page = client.get("/kiosk", headers=LANGS[lang])
    cleared = f"{kiosk_auth.COOKIE_NAME}=;" in " ".join(page.headers.getlist("Set-Cookie"))
    api = app.test_client().post(
        "/api/v1/workrooms/xiasheshi/checkins",
        json={},
        headers={
            **LANGS[lang],
            "X-Kiosk-Credential": credential,
            "Idempotency-Key": secrets.token_hex(8),
        },
    )
    return answer(page), cleared, answer(api)


@pytest.mark.parametrize("lang", LANGS)
def test_a_kiosk_credential_opens_the_check_in(paired, lang):
    page, cleared, api = probe_kiosk(paired.app, paired.secret, lang)
    assert page.status == 200 and not cleared and "下摄司街道代表工作室" in page.body
    assert api.status != 401


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", CREDENTIAL_CASES)
def test_kiosk_credentials_that_open_nothing_answer_alike(paired, case, lang):
    got = probe_kiosk(paired.app, CREDENTIAL_CASES[case](paired), lang)
    assert got == probe_kiosk(paired.app, reference(paired), lang)
    page, cleared, api = got
    assert page.status == 302 and page.location.endswith("/kiosk/pair?revoked=1") and cleared
    assert api.status == 401
    assert say(lang, "This kiosk is not paired any more. Pair it again.") in api.body
