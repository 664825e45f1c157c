"""Routing: which agency handles a suggestion of a category in an area, and why.

A rule on category C × area A matches suggestions whose category is C or one of its
sub-categories and whose area lies in A's subtree. The most specific match wins: a
rule on a sub-category beats one on its parent category, then a rule on a smaller
area beats one on a larger area, then the higher priority, then the older rule.
Inactive rules, and rules whose lead agency is inactive, never match. No match sends
the suggestion to triage.

A suggestion keeps its routing decision as data (``Suggestion.routing_kind`` and the
rule, category, area and agency it names); ``explain_routing`` says it in the
reader's language.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload

from workroom.audit.log import record
from workroom.categories.models import Category
from workroom.db import db
from workroom.errors import DomainError
from workroom.people.models import Agency, ProfessionalGroup
from workroom.places.models import Area
from workroom.suggestions.models import DEADLINE_POLICIES, RoutingRule, Suggestion

PRIORITY_RANGE = (-1000, 1000)

# Why a rule that covers the suggestion did not fire.
LOSS_REASONS = {
    "broader_category": _l("A rule on a more specific category wins."),
    "broader_area": _l("A rule on a smaller area wins."),
    "lower_priority": _l("A rule with a higher priority wins."),
    "later_rule": _l("An equally specific rule with the same priority is older."),
    "inactive": _l("The rule is inactive."),
    "agency_inactive": _l("Its lead agency is inactive."),
}


@dataclasses.dataclass(frozen=True)
class RouteDecision:
    """Where a suggestion goes: the winning rule and its agencies, or triage.

    ``category`` and ``area`` are the suggestion's; ``candidates`` are the other rules
    covering them, best first, each with a LOSS_REASONS code.
    """

    rule: RoutingRule | None
    lead_agency: Agency | None
    co_agencies: list[Agency]
    group: ProfessionalGroup | None
    deadline_policy: str
    candidates: list[tuple[RoutingRule, str]] = dataclasses.field(default_factory=list)
    category: Category | None = None
    area: Area | None = None

    @property
    def matched(self) -> bool:
        return self.rule is not None

    @property
    def kind(self) -> str:
        """The ``Suggestion.routing_kind`` of this decision: "rule" or "no_rule"."""
        return "rule" if self.rule is not None else "no_rule"

    @property
    def matched_category(self) -> Category | None:
        """The category the decision names: the rule's, or the suggestion's without one."""
        return self.rule.category if self.rule is not None else self.category

    @property
    def matched_area(self) -> Area | None:
        """The area the decision names: the rule's, or the suggestion's without one."""
        return self.rule.area if self.rule is not None else self.area


def _chains(nodes: dict[int, Any]) -> dict[int, tuple[int, ...]]:
    """For each node id, the ids from the root down to the node itself."""
    chains: dict[int, tuple[int, ...]] = {}

    def chain(node_id: int) -> tuple[int, ...]:
        found = chains.get(node_id)
        if found is not None:
            return found
        path: list[int] = []
        current: int | None = node_id
        while current is not None and current in nodes and current not in path:
            path.append(current)
            current = nodes[current].parent_id
        result = tuple(reversed(path))
        chains[node_id] = result
        return result

    for node_id in nodes:
        chain(node_id)
    return chains


class RoutingTable:
    """Rules, category ancestry and area ancestry held in memory; built once, it routes
    without queries. Decisions are memoised per (category, area) pair."""

    def __init__(
        self,
        rules: Iterable[RoutingRule],
        categories: Iterable[Category],
        areas: Iterable[Area],
    ) -> None:
        self.categories = {c.id: c for c in categories}
        self.areas = {a.id: a for a in areas}
        self._category_chains = _chains(self.categories)
        self._area_chains = _chains(self.areas)
        # Per (category, area): (priority, -id, rule, why it can never fire or None).
        self._rules: dict[tuple[int, int], list[tuple[int, int, RoutingRule, str | None]]] = (
            defaultdict(list)
        )
        # What each rule that can fire assigns: lead, co-handlers, group, policy.
        self._outcomes: dict[int, tuple[Any, ...]] = {}
        for rule in rules:
            refusal = None if rule.active else "inactive"
            if refusal is None and not rule.lead_agency.active:
                refusal = "agency_inactive"
            self._rules[(rule.category_id, rule.area_id)].append(
                (rule.priority, -rule.id, rule, refusal)
            )
            if refusal is None:
                self._outcomes[rule.id] = (
                    rule.lead_agency,
                    [a for a in rule.co_agencies if a.active and a.id != rule.lead_agency_id],
                    rule.group if rule.group is not None and rule.group.active else None,
                    rule.deadline_policy,
                )
        self._cache: dict[tuple[int, int], RouteDecision] = {}

    @classmethod
    def load(cls, session: Session | None = None) -> RoutingTable:
        """Every rule, category and area from the database (a handful of queries)."""
        session = session or db.session
        rules = session.scalars(
            sa.select(RoutingRule).options(
                joinedload(RoutingRule.lead_agency),
                joinedload(RoutingRule.group),
                selectinload(RoutingRule.co_agencies),
            )
        ).all()
        categories = session.scalars(sa.select(Category)).all()
        areas = session.scalars(sa.select(Area)).all()
        return cls(rules, categories, areas)

    def route(self, category: Category | int, area: Area | int) -> RouteDecision:
        key = (
            category if isinstance(category, int) else category.id,
            area if isinstance(area, int) else area.id,
        )
        decision = self._cache.get(key)
        if decision is None:
            decision = self._cache[key] = self.resolve(*key)
        return decision

    def resolve(self, category_id: int, area_id: int) -> RouteDecision:
        """The decision for a pair, computed afresh (``route`` memoises it)."""
        rules = self._rules
        valid: list[tuple[tuple[int, int, int, int], RoutingRule]] = []
        invalid: list[tuple[RoutingRule, str]] = []
        area_chain = tuple(enumerate(self._area_chains.get(area_id, ())))
        for category_depth, rule_category in enumerate(self._category_chains.get(category_id, ())):
            for area_depth, rule_area in area_chain:
                for priority, older, rule, refusal in rules.get((rule_category, rule_area), ()):
                    if refusal is None:
                        valid.append(((category_depth, area_depth, priority, older), rule))
                    else:
                        invalid.append((rule, refusal))
        category = self.categories.get(category_id)
        area = self.areas.get(area_id)
        if len(invalid) > 1:
            invalid.sort(key=lambda item: item[0].id)
        if not valid:
            return RouteDecision(
                rule=None,
                lead_agency=None,
                co_agencies=[],
                group=None,
                deadline_policy="citizen",
                candidates=invalid,
                category=category,
                area=area,
            )
        if len(valid) > 1:
            valid.sort(key=lambda item: item[0], reverse=True)
        best_key, best = valid[0]
        lead, co, group, policy = self._outcomes[best.id]
        return RouteDecision(
            rule=best,
            lead_agency=lead,
            co_agencies=co,
            group=group,
            deadline_policy=policy,
            candidates=[(rule, _loss(key, best_key)) for key, rule in valid[1:]] + invalid,
            category=category,
            area=area,
        )


def _loss(key: tuple[int, int, int, int], best: tuple[int, int, int, int]) -> str:
    if key[0] < best[0]:
        return "broader_category"
    if key[1] < best[1]:
        return "broader_area"
    if key[2] < best[2]:
        return "lower_priority"
    return "later_rule"


def _ancestry(node: Any) -> list[Any]:
    chain: list[Any] = []
    while node is not None and node not in chain:
        chain.append(node)
        node = node.parent
    return chain


def route(category: Category, area: Area, session: Session | None = None) -> RouteDecision:
    """Route a suggestion of ``category`` in ``area`` against the stored rules.

    Loads only the rules on the category's and the area's ancestors (one query).
    For many suggestions at once build a ``RoutingTable`` and call its ``route``.
    """
    session = session or db.session
    if isinstance(category, int):
        category = session.get(Category, category)
    if isinstance(area, int):
        area = session.get(Area, area)
    categories, areas = _ancestry(category), _ancestry(area)
    rules = session.scalars(
        sa.select(RoutingRule)
        .where(
            RoutingRule.category_id.in_([c.id for c in categories]),
            RoutingRule.area_id.in_([a.id for a in areas]),
        )
        .options(
            joinedload(RoutingRule.lead_agency),
            joinedload(RoutingRule.group),
            selectinload(RoutingRule.co_agencies),
        )
    ).all()
    return RoutingTable(rules, categories, areas).resolve(category.id, area.id)


# Explanations


def _category_label(category: Category | None) -> str:
    return str(category.label) if category is not None else "?"


def _sentence(
    kind: str,
    category: Category | None,
    area: Area | None,
    agency: Agency | None,
    note: str = "",
) -> str:
    """A routing decision in one sentence, in the current language."""
    names = {
        "category": _category_label(category),
        "area": area.name if area is not None else "?",
        "agency": agency.name if agency is not None else "?",
    }
    if kind == "rule":
        if note:
            return _(
                "Matched: %(category)s × %(area)s → %(agency)s (%(reason)s)", reason=note, **names
            )
        return _("Matched: %(category)s × %(area)s → %(agency)s", **names)
    if kind == "no_rule":
        return _(
            "No rule matches %(category)s × %(area)s: the suggestion waits in triage.",
            category=names["category"],
            area=names["area"],
        )
    if kind == "manual":
        if note:
            return _(
                "Assigned by staff to %(agency)s: %(reason)s", agency=names["agency"], reason=note
            )
        return _("Assigned by staff to %(agency)s.", agency=names["agency"])
    if kind == "override":
        return _(
            "Assigned by staff to %(agency)s instead of the rules' choice: %(reason)s",
            agency=names["agency"],
            reason=note or "—",
        )
    if kind == "returned":
        return _("%(agency)s returned it: %(reason)s", agency=names["agency"], reason=note or "—")
    return ""


def explain_decision(decision: RouteDecision, locale: Any) -> str:
    """The decision in one sentence, in ``locale`` (e.g. "zh_Hans_CN" or "en")."""
    with force_locale(locale):
        return _sentence(
            decision.kind, decision.matched_category, decision.matched_area, decision.lead_agency
        )


def explain_routing(s: Suggestion, locale: Any = None) -> str:
    """How ``s`` was routed, in one sentence in ``locale`` (the current one when None).

    A row from before decisions were data, which the migration could not read, keeps
    its old text, shown as it is.
    """
    if not s.routing_kind:
        return s.routing_reason
    with force_locale(locale) if locale is not None else nullcontext():
        return _sentence(
            s.routing_kind, s.routing_category, s.routing_area, s.routing_agency, s.routing_note
        )


def describe_rule(rule: RoutingRule, locale: Any) -> str:
    """One line naming a rule: "#12 生态环境 × 岳塘区 → 区生态环境分局 (priority 0)"."""
    with force_locale(locale):
        return _(
            "#%(id)s %(category)s × %(area)s → %(agency)s (priority %(priority)s)",
            id=rule.id,
            category=_category_label(rule.category),
            area=rule.area.name,
            agency=rule.lead_agency.name,
            priority=rule.priority,
        )


def loss_label(code: str, locale: Any = None) -> str:
    if locale is None:
        return str(LOSS_REASONS.get(code, code))
    with force_locale(locale):
        return str(LOSS_REASONS.get(code, code))


def preview_lines(decision: RouteDecision, locale: Any) -> list[str]:
    """The route preview as text lines: the decision, what it assigns, and why each
    other covering rule lost. The CLI prints these; the preview page shows the same."""
    lines = [explain_decision(decision, locale)]
    with force_locale(locale):
        if decision.rule is not None:
            lines.append(_("Rule: %(rule)s", rule=describe_rule(decision.rule, locale)))
            lines.append(_("Lead agency: %(name)s", name=decision.lead_agency.name))
            lines.append(
                _(
                    "Co-handling agencies: %(names)s",
                    names=", ".join(a.name for a in decision.co_agencies) or _("none"),
                )
            )
            lines.append(
                _(
                    "Professional group: %(name)s",
                    name=decision.group.name if decision.group else _("none"),
                )
            )
            lines.append(
                _(
                    "Deadline policy: %(policy)s",
                    policy=str(
                        DEADLINE_POLICIES.get(decision.deadline_policy, decision.deadline_policy)
                    ),
                )
            )
        if decision.candidates:
            lines.append(_("Other rules covering this category and area:"))
            for rule, why in decision.candidates:
                lines.append(f"  {describe_rule(rule, locale)}: {loss_label(why, locale)}")
        else:
            lines.append(_("No other rule covers this category and area."))
    return lines


# Managing rules


def _check_rule(
    rule: RoutingRule | None,
    *,
    category: Category | None,
    area: Area | None,
    lead_agency: Agency | None,
    co_agencies: Sequence[Agency],
    group: ProfessionalGroup | None,
    deadline_policy: str,
    priority: int | None,
    active: bool,
) -> None:
    if category is None:
        raise DomainError(_l("Choose a category."), "category_id")
    if area is None:
        raise DomainError(_l("Choose an area."), "area_id")
    if lead_agency is None:
        raise DomainError(_l("Choose the lead agency."), "lead_agency_id")
    if not lead_agency.active and (rule is None or rule.lead_agency_id != lead_agency.id):
        raise DomainError(_l("This agency is inactive."), "lead_agency_id")
    before = {a.id for a in rule.co_agencies} if rule is not None else set()
    for agency in co_agencies:
        if agency.id == lead_agency.id:
            raise DomainError(
                _l("The lead agency cannot also be a co-handling agency."), "co_agency_ids"
            )
        if not agency.active and agency.id not in before:
            raise DomainError(_l("%(name)s is inactive.", name=agency.name), "co_agency_ids")
    if group is not None and not group.active and (rule is None or rule.group_id != group.id):
        raise DomainError(_l("This professional group is inactive."), "group_id")
    if deadline_policy not in DEADLINE_POLICIES:
        raise DomainError(_l("Choose a deadline policy."), "deadline_policy")
    low, high = PRIORITY_RANGE
    if priority is None or not low <= priority <= high:
        raise DomainError(
            _l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), "priority"
        )
    if active:
        same = sa.select(RoutingRule.id).where(
            RoutingRule.category_id == category.id,
            RoutingRule.area_id == area.id,
            RoutingRule.priority == priority,
            RoutingRule.active,
        )
        if rule is not None:
            same = same.where(RoutingRule.id != rule.id)
        if db.session.scalar(same) is not None:
            raise DomainError(
                _l(
                    "Another active rule covers this category and area with the same "
                    "priority. Give one of them another priority."
                ),
                "priority",
            )


def _summary(rule: RoutingRule) -> object:
    co = ", ".join(a.name for a in rule.co_agencies)
    return _l(
        "%(category)s × %(area)s → %(lead)s%(co)s (%(policy)s, priority %(priority)s)",
        category=rule.category.code,
        area=rule.area.name,
        lead=rule.lead_agency.name,
        co=f" + {co}" if co else "",
        policy=DEADLINE_POLICIES.get(rule.deadline_policy, rule.deadline_policy),
        priority=rule.priority,
    )


def create_rule(
    *,
    category: Category | None,
    area: Area | None,
    lead_agency: Agency | None,
    co_agencies: Sequence[Agency] = (),
    group: ProfessionalGroup | None = None,
    deadline_policy: str = "citizen",
    priority: int | None = 0,
    active: bool = True,
    actor: Any = None,
) -> RoutingRule:
    """Add a routing rule (audited).

    Raises DomainError naming the field: a missing category, area or lead agency, an
    inactive agency or group, the lead among the co-handlers, an unknown policy, a
    priority outside −1000…1000, or another active rule with the same category, area
    and priority.
    """
    _check_rule(
        None,
        category=category,
        area=area,
        lead_agency=lead_agency,
        co_agencies=co_agencies,
        group=group,
        deadline_policy=deadline_policy,
        priority=priority,
        active=active,
    )
    rule = RoutingRule(
        category=category,
        area=area,
        lead_agency=lead_agency,
        co_agencies=list(dict.fromkeys(co_agencies)),
        group=group,
        deadline_policy=deadline_policy,
        priority=priority,
        active=active,
    )
    db.session.add(rule)
    db.session.flush()
    record("routing_rule.create", rule, summary=_summary(rule), actor=actor)
    return rule


def update_rule(
    rule: RoutingRule,
    *,
    category: Category | None,
    area: Area | None,
    lead_agency: Agency | None,
    co_agencies: Sequence[Agency] = (),
    group: ProfessionalGroup | None = None,
    deadline_policy: str = "citizen",
    priority: int | None = 0,
    active: bool = True,
    actor: Any = None,
) -> None:
    """Change a rule, or deactivate it with ``active=False`` (audited; never deleted).

    Suggestions already routed keep their agencies. Raises DomainError as ``create_rule``.
    """
    _check_rule(
        rule,
        category=category,
        area=area,
        lead_agency=lead_agency,
        co_agencies=co_agencies,
        group=group,
        deadline_policy=deadline_policy,
        priority=priority,
        active=active,
    )
    rule.category = category  # type: ignore[assignment]
    rule.area = area  # type: ignore[assignment]
    rule.lead_agency = lead_agency  # type: ignore[assignment]
    rule.co_agencies = list(dict.fromkeys(co_agencies))
    rule.group = group
    rule.deadline_policy = deadline_policy
    rule.priority = priority  # type: ignore[assignment]
    if rule.active != active:
        rule.active = active
        record(
            f"routing_rule.{'activate' if active else 'deactivate'}",
            rule,
            summary=_summary(rule),
            actor=actor,
        )
    db.session.flush()
    record("routing_rule.update", rule, summary=_summary(rule), actor=actor)


# Finding what the CLI names


def find_category(code: str) -> Category:
    """The category with this code; raises DomainError when there is none."""
    category = db.session.scalar(sa.select(Category).where(Category.code == (code or "").strip()))
    if category is None:
        raise DomainError(_l("No category has the code %(code)s.", code=code), "category")
    return category


def find_area(name_or_id: str) -> Area:
    """The area with this id, or the only area with this name.

    Raises DomainError when none matches or several areas share the name (listing
    their ids so the caller can choose).
    """
    text = (name_or_id or "").strip()
    if text.isdigit():
        area = db.session.get(Area, int(text))
        if area is not None:
            return area
    matches = db.session.scalars(sa.select(Area).where(Area.name == text).order_by(Area.id)).all()
    if not matches:
        raise DomainError(_l("No area is named or numbered %(area)s.", area=text), "area")
    if len(matches) > 1:
        raise DomainError(
            _l(
                "Several areas are named %(area)s; give one of these ids: %(ids)s",
                area=text,
                ids="; ".join(f"{a.id} ({a.full_name})" for a in matches),
            ),
            "area",
        )
    return matches[0]
