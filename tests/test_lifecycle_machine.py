"""Property test of the lifecycle: random sequences of steps never reach an invalid
state, every successful step leaves exactly one event, a refused step changes
nothing, and a closed suggestion stays closed unless it is handled again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from workroom.categories.models import Category
from workroom.errors import Conflict, DomainError
from workroom.places.models import Area
from workroom.suggestions import lifecycle
from workroom.suggestions.models import (
    EVENT_KINDS,
    REPLY_CLASSES,
    SATISFACTION,
    STATUSES,
    ExtensionRequest,
    Suggestion,
    SuggestionEvent,
)
from workroom.suggestions.routing import create_rule

START = dt.datetime(2026, 3, 2, 1, 0)
MAX_SUGGESTIONS = 3


def test_random_lifecycles_stay_valid(app, db, make_agency, make_workroom, make_user):
    city = Area(name="湘潭市", level="city")
    street = Area(
        name="下摄司街道", level="street", parent=Area(name="岳塘区", level="district", parent=city)
    )
    db.session.add(street)
    agencies = [make_agency(name=f"单位{n}") for n in range(3)]
    environment = db.session.scalar(sa.select(Category).where(Category.code == "environment"))
    other = db.session.scalar(sa.select(Category).where(Category.code == "other"))
    create_rule(category=environment, area=city, lead_agency=agencies[0], co_agencies=[agencies[1]])
    workroom = make_workroom(area=street)
    staff = make_user("admin")
    db.session.commit()
    agency_choice = st.sampled_from(agencies)
    # The kinds of step that succeeded at least once, to show the runs got everywhere.
    seen: set[str] = set()

    def event_count() -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionEvent))

    def snapshot(s: Suggestion) -> tuple[Any, ...]:
        return (
            s.status,
            s.lead_agency_id,
            tuple(sorted((link.agency_id, link.role, link.opinion) for link in s.agencies)),
            s.accept_due,
            s.reply_due,
            s.accepted_at,
            s.reply_class,
            s.rehandle_count,
            s.extensions_used,
            s.merged_into_id,
            tuple((c.satisfaction, c.followed_up_at) for c in s.citizens),
            tuple(r.status for r in s.extension_requests),
        )

    class Lifecycles(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.now = START
            self.suggestions: list[Suggestion] = []
            self.closed: set[int] = set()

        # Running a step

        def attempt(self, step: Any) -> bool:
            events = event_count()
            before = [snapshot(s) for s in self.suggestions]
            try:
                step()
            except (Conflict, DomainError) as refusal:
                assert str(refusal.message)
                assert event_count() == events, "a refused step left an event"
                assert [snapshot(s) for s in self.suggestions] == before, (
                    "a refused step changed state"
                )
                return False
            db.session.flush()
            assert event_count() == events + 1, "a step must leave exactly one event"
            seen.add(
                db.session.scalar(
                    sa.select(SuggestionEvent.kind).order_by(SuggestionEvent.id.desc()).limit(1)
                )
            )
            return True

        def pick(self, data: Any) -> Suggestion:
            return data.draw(st.sampled_from(self.suggestions))

        def agency_for(self, data: Any, s: Suggestion) -> Any:
            """Mostly an agency handling ``s`` (so that steps get far), sometimes any."""
            role = data.draw(st.sampled_from(["lead", "lead", "co", "any"]))
            handling = [link.agency for link in s.agencies if link.role == role]
            return handling[0] if handling else data.draw(agency_choice)

        # Steps

        @initialize(routed=st.booleans(), people=st.integers(1, 2))
        def first(self, routed: bool, people: int) -> None:
            self.submit(routed, people)

        @precondition(lambda self: len(self.suggestions) < MAX_SUGGESTIONS)
        @rule(routed=st.booleans(), people=st.integers(0, 2))
        def submit(self, routed: bool, people: int) -> None:
            events = event_count()
            s = lifecycle.submit(
                title="建议",
                content="内容",
                category=environment if routed else other,
                area=street,
                source="liaison",
                now=self.now,
                actor=staff,
                workroom=workroom,
                citizens=[{"name": f"市民{n}", "phone": f"1380013800{n}"} for n in range(people)],
            )
            db.session.flush()
            assert s.status == ("assigned" if routed else "triage")
            assert event_count() == events + (2 if routed else 1)
            self.suggestions.append(s)

        @rule(hours=st.integers(1, 72))
        def time_passes(self, hours: int) -> None:
            self.now += dt.timedelta(hours=hours)

        @precondition(lambda self: self.suggestions)
        @rule(
            data=st.data(),
            lead=agency_choice,
            co=st.lists(agency_choice, max_size=2),
            reason=st.sampled_from(["", "职责调整"]),
            override=st.booleans(),
        )
        def assign(self, data: Any, lead: Any, co: list[Any], reason: str, override: bool) -> None:
            s = self.pick(data)
            self.attempt(
                lambda: lifecycle.assign(
                    s,
                    lead_agency=lead,
                    co_agencies=co,
                    now=self.now,
                    actor=staff,
                    reason=reason,
                    override=override,
                )
            )

        @precondition(lambda self: self.suggestions)
        @rule(data=st.data())
        def accept(self, data: Any) -> None:
            s = self.pick(data)
            agency = self.agency_for(data, s)
            self.attempt(lambda: lifecycle.accept(s, agency=agency, now=self.now, actor=None))

        @precondition(lambda self: self.suggestions)
        @rule(data=st.data(), reason=st.sampled_from(["", "不属本单位"]))
        def return_misassigned(self, data: Any, reason: str) -> None:
            s = self.pick(data)
            agency = self.agency_for(data, s)
            self.attempt(
                lambda: lifecycle.return_misassigned(
                    s, agency=agency, reason=reason, now=self.now, actor=None
                )
            )

        @precondition(lambda self: self.suggestions)
        @rule(data=st.data(), days=st.integers(-3, 40))
        def request_extension(self, data: Any, days: int) -> None:
            s = self.pick(data)
            agency = self.agency_for(data, s)
            due = (s.reply_due or self.now.date()) + dt.timedelta(days=days)
            self.attempt(
                lambda: lifecycle.request_extension(
                    s, agency=agency, requested_due=due, reason="需要时间", now=self.now, actor=None
                )
            )

        @precondition(lambda self: any(s.extension_requests for s in self.suggestions))
        @rule(data=st.data(), approve=st.booleans())
        def decide_extension(self, data: Any, approve: bool) -> None:
            requests = [r for s in self.suggestions for r in s.extension_requests]
            request: ExtensionRequest = data.draw(st.sampled_from(requests))
            self.attempt(
                lambda: lifecycle.decide_extension(
                    request, approve=approve, now=self.now, actor=staff
                )
            )

        @precondition(lambda self: self.suggestions)
        @rule(data=st.data())
        def co_opinion(self, data: Any) -> None:
            s = self.pick(data)
            agency = self.agency_for(data, s)
            self.attempt(
                lambda: lifecycle.co_opinion(
                    s, agency=agency, opinion="协办意见", now=self.now, actor=None
                )
            )

        @precondition(lambda self: self.suggestions)
        @rule(data=st.data(), reply_class=st.sampled_from([*REPLY_CLASSES, "X"]))
        def reply(self, data: Any, reply_class: str) -> None:
            s = self.pick(data)
            agency = self.agency_for(data, s)
            self.attempt(
                lambda: lifecycle.reply(
                    s, agency=agency, text="答复", reply_class=reply_class, now=self.now, actor=None
                )
            )

        @precondition(lambda self: any(s.citizens for s in self.suggestions))
        @rule(data=st.data(), satisfaction=st.sampled_from(list(SATISFACTION)))
        def follow_up(self, data: Any, satisfaction: str) -> None:
            s = self.pick(data)
            mine = lifecycle.group_citizens(s)
            everyone = [c for x in self.suggestions for c in x.citizens]
            citizen = data.draw(
                st.sampled_from(mine if mine and data.draw(st.booleans()) else everyone)
            )
            self.attempt(
                lambda: lifecycle.record_follow_up(
                    s, citizen, satisfaction=satisfaction, note="", now=self.now, actor=staff
                )
            )

        @precondition(lambda self: self.suggestions)
        @rule(data=st.data())
        def close(self, data: Any) -> None:
            s = self.pick(data)
            if self.attempt(lambda: lifecycle.close(s, now=self.now, actor=staff)):
                self.closed.add(s.id)

        @precondition(lambda self: self.suggestions)
        @rule(data=st.data())
        def rehandle(self, data: Any) -> None:
            s = self.pick(data)
            if self.attempt(
                lambda: lifecycle.rehandle(s, now=self.now, actor=staff, reason="不满意")
            ):
                self.closed.discard(s.id)

        @precondition(lambda self: self.suggestions)
        @rule(data=st.data(), times=st.integers(1, 6))
        def progress(self, data: Any, times: int) -> None:
            """A few ordinary steps of one suggestion in a row, so that runs get far."""
            s = self.pick(data)
            for _ in range(times):
                self.step_forward(data, s)

        def step_forward(self, data: Any, s: Suggestion) -> None:
            lead, now = s.lead_agency, self.now
            satisfaction = data.draw(
                st.sampled_from(["satisfied", "basically", "dissatisfied", "dissatisfied"])
            )
            coin = data.draw(st.booleans())
            approve = data.draw(st.sampled_from([True, True, False]))
            waiting = [c for c in lifecycle.group_citizens(s) if c.followed_up_at is None]
            silent = [x.agency for x in s.agencies if x.role == "co" and x.opinion_at is None]
            pending = [r for r in s.extension_requests if r.status == "pending"]

            def step() -> None:
                if s.status == "triage":
                    lifecycle.assign(s, lead_agency=agencies[2], now=now, actor=staff)
                elif s.status in ("assigned", "accepted") and silent and coin:
                    lifecycle.co_opinion(s, agency=silent[0], opinion="同意", now=now, actor=None)
                elif s.status == "assigned":
                    lifecycle.accept(s, agency=lead, now=now, actor=None)
                elif s.status == "accepted" and pending:
                    lifecycle.decide_extension(pending[0], approve=approve, now=now, actor=staff)
                elif s.status == "accepted" and not s.extension_requests:
                    due = s.reply_due + dt.timedelta(days=7)
                    lifecycle.request_extension(
                        s, agency=lead, requested_due=due, reason="协调", now=now, actor=None
                    )
                elif s.status == "accepted":
                    lifecycle.reply(
                        s, agency=lead, text="答复", reply_class="B", now=now, actor=None
                    )
                elif s.status == "replied" and waiting:
                    lifecycle.record_follow_up(
                        s, waiting[0], satisfaction=satisfaction, note="", now=now, actor=staff
                    )
                elif s.status == "replied" and coin:
                    lifecycle.close(s, now=now, actor=staff)
                else:
                    lifecycle.rehandle(s, now=now, actor=staff, reason="不满意")

            if s.status != "merged" and self.attempt(step):
                if s.status == "closed":
                    self.closed.add(s.id)
                elif s.status == "assigned":
                    self.closed.discard(s.id)

        @precondition(lambda self: len(self.suggestions) >= 2)
        @rule(data=st.data())
        def merge(self, data: Any) -> None:
            duplicate, into = self.pick(data), self.pick(data)
            self.attempt(lambda: lifecycle.merge(duplicate, into=into, now=self.now, actor=staff))

        # What always holds

        @invariant()
        def closed_stays_closed(self) -> None:
            for s in self.suggestions:
                if s.id in self.closed:
                    assert s.status == "closed", "a closed suggestion reopened without re-handling"

        @invariant()
        def every_suggestion_is_valid(self) -> None:
            for s in self.suggestions:
                assert s.status in STATUSES
                assert s.events and s.events[0].kind == "submitted"
                assert s.rehandle_count <= 2 and s.extensions_used <= 1
                pending = [r for r in s.extension_requests if r.status == "pending"]
                assert len(pending) <= 1
                leads = [link for link in s.agencies if link.role == "lead"]
                if s.status == "triage":
                    assert s.lead_agency_id is None and not s.agencies
                    assert s.accept_due is None and s.reply_due is None
                if s.status in ("assigned", "accepted", "replied", "closed"):
                    assert [link.agency_id for link in leads] == [s.lead_agency_id]
                    assert all(
                        link.agency_id != s.lead_agency_id
                        for link in s.agencies
                        if link.role == "co"
                    )
                if s.status in ("assigned", "accepted"):
                    assert s.accept_due is not None and s.reply_due is not None
                    assert s.accept_due <= s.reply_due
                    assert (s.accepted_at is not None) == (s.status == "accepted")
                    assert not s.reply_text
                else:
                    assert not pending
                if s.status in ("replied", "closed"):
                    assert s.reply_text and s.reply_class in REPLY_CLASSES and s.replied_at
                    assert all(c.replied_to_at for c in lifecycle.group_citizens(s))
                if s.status == "closed":
                    assert s.closed_at is not None
                    assert all(c.followed_up_at for c in lifecycle.group_citizens(s))
                if s.status == "merged":
                    assert s.merged_into is not None and s.merged_into.status != "merged"
                else:
                    assert s.merged_into_id is None

    run_state_machine_as_test(
        Lifecycles,
        settings=settings(
            max_examples=50,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
    assert seen == set(EVENT_KINDS) - {"submitted"}
