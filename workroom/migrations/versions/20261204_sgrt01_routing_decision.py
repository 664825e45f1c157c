"""routing decision as data

The decision used to be stored as English text in suggestion.routing_reason
("matched: 生态环境 × 岳塘区 → 生态环境分局", "no rule matches: …", "assigned by staff: …",
"override: …", "returned by …: …") and again in the note of each "assigned" event.
Each text this migration can read becomes the kind of decision, the category, area and
agency it names and the reason a person gave; a text it cannot read stays in
routing_reason, shown as it is.

Revision ID: sgrt01
Revises: sg02
Create Date: 2026-12-04 09:00:00.000000

"""

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "sgrt01"
down_revision = "sg02"
branch_labels = None
depends_on = None

BATCH = 1000

suggestion = sa.table(
    "suggestion",
    sa.column("id", sa.Integer),
    sa.column("category_id", sa.Integer),
    sa.column("area_id", sa.Integer),
    sa.column("lead_agency_id", sa.Integer),
    sa.column("routing_rule_id", sa.Integer),
    sa.column("routing_reason", sa.String),
    sa.column("routing_kind", sa.String),
    sa.column("routing_category_id", sa.Integer),
    sa.column("routing_area_id", sa.Integer),
    sa.column("routing_agency_id", sa.Integer),
    sa.column("routing_note", sa.String),
)
event = sa.table(
    "suggestion_event",
    sa.column("id", sa.Integer),
    sa.column("suggestion_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("note", sa.Text),
    sa.column("detail", sa.String),
)


class Names:
    """The categories, areas, agencies and rules the old texts name."""

    def __init__(self, conn: sa.Connection) -> None:
        self.categories = {
            r.id: r for r in conn.execute(sa.text("SELECT id, parent_id, label_zh FROM category"))
        }
        self.areas = {
            r.id: r for r in conn.execute(sa.text("SELECT id, parent_id, name FROM area"))
        }
        self.agencies = {r.id: r.name for r in conn.execute(sa.text("SELECT id, name FROM agency"))}
        self.rules = {
            r.id: r
            for r in conn.execute(
                sa.text("SELECT id, category_id, area_id, lead_agency_id FROM routing_rule")
            )
        }

    @staticmethod
    def _chain(nodes: dict, node_id: int | None) -> list[int]:
        chain: list[int] = []
        while node_id is not None and node_id in nodes and node_id not in chain:
            chain.append(node_id)
            node_id = nodes[node_id].parent_id
        return chain

    @staticmethod
    def _unique(ids: list[int]) -> int | None:
        found = list(dict.fromkeys(ids))
        return found[0] if len(found) == 1 else None

    def category(self, label: str, near: list[int]) -> int | None:
        """The category labelled ``label``: the first of ``near`` (and their ancestors)
        that is, else the only one in the table."""
        for node in near:
            for c in self._chain(self.categories, node):
                if self.categories[c].label_zh == label:
                    return c
        return self._unique([c.id for c in self.categories.values() if c.label_zh == label])

    def area(self, name: str, near: list[int]) -> int | None:
        for node in near:
            for a in self._chain(self.areas, node):
                if self.areas[a].name == name:
                    return a
        return self._unique([a.id for a in self.areas.values() if a.name == name])

    def agency_prefix(self, text: str, near: list[int | None], end: str) -> tuple[int, str] | None:
        """The agency whose name starts ``text`` followed by ``end`` (or the end of the
        text when ``end`` is ""), preferring ``near``; with the rest of the text."""
        names = [(a, self.agencies[a]) for a in near if a in self.agencies]
        names += sorted(self.agencies.items(), key=lambda item: -len(item[1]))
        for agency_id, name in names:
            if end and text.startswith(name + end):
                return agency_id, text[len(name) + len(end) :]
            if not end and text == name:
                return agency_id, ""
        return None


def _matched(text: str, row: sa.Row, names: Names) -> dict | None:
    """ "matched: {category} × {area} → {agency}" with an optional " ({reason})"."""
    rule = names.rules.get(row.routing_rule_id)
    rest = text.removeprefix("matched: ")
    near_categories = [rule.category_id] if rule else []
    near_areas = [rule.area_id] if rule else []
    for category_id in dict.fromkeys(
        [*near_categories, *names._chain(names.categories, row.category_id)]
    ):
        label = names.categories[category_id].label_zh
        if not rest.startswith(label + " × "):
            continue
        after_category = rest[len(label) + 3 :]
        for area_id in dict.fromkeys([*near_areas, *names._chain(names.areas, row.area_id)]):
            name = names.areas[area_id].name
            if not after_category.startswith(name + " → "):
                continue
            tail = after_category[len(name) + 3 :]
            near = [rule.lead_agency_id if rule else None, row.lead_agency_id]
            found = names.agency_prefix(tail, near, "")
            note = ""
            if found is None:
                found = names.agency_prefix(tail, near, " (")
                if found is None or not found[1].endswith(")"):
                    continue
                note = found[1][:-1]
            return {
                "routing_kind": "rule",
                "routing_category_id": category_id,
                "routing_area_id": area_id,
                "routing_agency_id": found[0],
                "routing_note": note,
            }
    return None


def _no_rule(text: str, row: sa.Row, names: Names) -> dict | None:
    """ "no rule matches: {category or ?} × {area or ?} → triage"."""
    body = text.removeprefix("no rule matches: ").removesuffix(" → triage")
    if body == text or " × " not in body:
        return None
    for cut in range(len(body)):
        if not body.startswith(" × ", cut):
            continue
        label, name = body[:cut], body[cut + 3 :]
        category_id = None if label == "?" else names.category(label, [row.category_id])
        area_id = None if name == "?" else names.area(name, [row.area_id])
        if (category_id is not None or label == "?") and (area_id is not None or name == "?"):
            return {
                "routing_kind": "no_rule",
                "routing_category_id": category_id,
                "routing_area_id": area_id,
                "routing_agency_id": None,
                "routing_note": "",
            }
    return None


def decision_of(text: str, row: sa.Row, names: Names) -> dict | None:
    """The decision an old routing_reason names, or None when it cannot be read."""
    staff = {"routing_category_id": None, "routing_area_id": None}
    if text.startswith("matched: "):
        return _matched(text, row, names)
    if text.startswith("no rule matches: "):
        return _no_rule(text, row, names)
    if row.lead_agency_id is not None and row.lead_agency_id in names.agencies:
        assigned = {**staff, "routing_agency_id": row.lead_agency_id}
        if text == "assigned by staff":
            return {**assigned, "routing_kind": "manual", "routing_note": ""}
        if text.startswith("assigned by staff: "):
            note = text.removeprefix("assigned by staff: ")
            return {**assigned, "routing_kind": "manual", "routing_note": note}
        if text.startswith("override: "):
            note = text.removeprefix("override: ")
            return {**assigned, "routing_kind": "override", "routing_note": note}
    if text.startswith("returned by "):
        found = names.agency_prefix(text.removeprefix("returned by "), [], ": ")
        if found is not None:
            return {
                **staff,
                "routing_kind": "returned",
                "routing_agency_id": found[0],
                "routing_note": found[1],
            }
    return None


def event_of(text: str, names: Names) -> dict | None:
    """An "assigned" event's old note as the kind of assignment (its detail) and the
    reason a person gave (its note), or None when it cannot be read."""
    if text == "assigned by staff":
        return {"detail": "manual", "note": ""}
    if text.startswith("assigned by staff: "):
        return {"detail": "manual", "note": text.removeprefix("assigned by staff: ")}
    if text.startswith("override: "):
        return {"detail": "override", "note": text.removeprefix("override: ")}
    if not text.startswith("matched: ") or " → " not in text:
        return None
    tail = text.split(" → ", 1)[1]
    if names.agency_prefix(tail, [], "") is not None:
        return {"detail": "rule", "note": ""}
    found = names.agency_prefix(tail, [], " (")
    if found is not None and found[1].endswith(")"):
        return {"detail": "rule", "note": found[1][:-1]}
    return None


def _batches(rows: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _migrate_rows(conn: sa.Connection) -> None:
    names = Names(conn)
    changes = []
    for row in conn.execute(
        sa.select(
            suggestion.c.id,
            suggestion.c.category_id,
            suggestion.c.area_id,
            suggestion.c.lead_agency_id,
            suggestion.c.routing_rule_id,
            suggestion.c.routing_reason,
        ).where(suggestion.c.routing_reason != "")
    ):
        decision = decision_of(row.routing_reason, row, names)
        if decision is not None:
            changes.append({"row_id": row.id, **decision, "routing_reason": ""})
    update = (
        sa.update(suggestion)
        .where(suggestion.c.id == sa.bindparam("row_id"))
        .values(
            {
                name: sa.bindparam(name)
                for name in (
                    "routing_kind",
                    "routing_category_id",
                    "routing_area_id",
                    "routing_agency_id",
                    "routing_note",
                    "routing_reason",
                )
            }
        )
    )
    for batch in _batches(changes):
        conn.execute(update, batch)

    notes = []
    for row in conn.execute(
        sa.select(event.c.id, event.c.note).where(event.c.kind == "assigned", event.c.note != "")
    ):
        found = event_of(row.note, names)
        if found is not None:
            notes.append({"row_id": row.id, **found})
    update = (
        sa.update(event)
        .where(event.c.id == sa.bindparam("row_id"))
        .values(note=sa.bindparam("note"), detail=sa.bindparam("detail"))
    )
    for batch in _batches(notes):
        conn.execute(update, batch)


def upgrade():
    with op.batch_alter_table("suggestion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("routing_kind", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("routing_category_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("routing_area_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("routing_agency_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("routing_note", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_suggestion_routing_category_id_category"),
            "category",
            ["routing_category_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_suggestion_routing_area_id_area"), "area", ["routing_area_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_suggestion_routing_agency_id_agency"),
            "agency",
            ["routing_agency_id"],
            ["id"],
        )
    _migrate_rows(op.get_bind())
    # New rows get their values from the application, as every other column does.
    with op.batch_alter_table("suggestion", schema=None) as batch_op:
        batch_op.alter_column("routing_kind", server_default=None)
        batch_op.alter_column("routing_note", server_default=None)


def _old_text(decision: dict, names: Names) -> str:
    """The English text a decision was stored as before this revision."""
    category = names.categories.get(decision["routing_category_id"])
    area = names.areas.get(decision["routing_area_id"])
    agency = names.agencies.get(decision["routing_agency_id"], "?")
    kind, note = decision["routing_kind"], decision["routing_note"]
    if kind == "rule":
        text = f"matched: {category.label_zh if category else '?'} × "
        text += f"{area.name if area else '?'} → {agency}"
        return text + (f" ({note})" if note else "")
    if kind == "no_rule":
        return (
            f"no rule matches: {category.label_zh if category else '?'} × "
            f"{area.name if area else '?'} → triage"
        )
    if kind == "manual":
        return "assigned by staff" + (f": {note}" if note else "")
    if kind == "override":
        return f"override: {note}"
    if kind == "returned":
        return f"returned by {agency}: {note}"
    return decision["routing_reason"]


def downgrade():
    conn = op.get_bind()
    names = Names(conn)
    decisions = {
        row.id: row._asdict()
        for row in conn.execute(
            sa.select(
                suggestion.c.id,
                suggestion.c.routing_kind,
                suggestion.c.routing_category_id,
                suggestion.c.routing_area_id,
                suggestion.c.routing_agency_id,
                suggestion.c.routing_note,
                suggestion.c.routing_reason,
            ).where(suggestion.c.routing_kind != "")
        )
    }
    update = (
        sa.update(suggestion)
        .where(suggestion.c.id == sa.bindparam("row_id"))
        .values(routing_reason=sa.bindparam("text"))
    )
    rows = [{"row_id": key, "text": _old_text(row, names)[:500]} for key, row in decisions.items()]
    for batch in _batches(rows):
        conn.execute(update, batch)

    notes = []
    for row in conn.execute(
        sa.select(event.c.id, event.c.suggestion_id, event.c.note, event.c.detail).where(
            event.c.kind == "assigned", event.c.detail != ""
        )
    ):
        latest = decisions.get(row.suggestion_id)
        if row.detail == "manual":
            note = "assigned by staff" + (f": {row.note}" if row.note else "")
        elif row.detail == "override":
            note = f"override: {row.note}"
        elif latest is not None and latest["routing_kind"] == "rule":
            # Only the latest decision names its rule's category, area and agency.
            note = _old_text({**latest, "routing_note": row.note}, names)
        else:
            note = row.note
        notes.append({"row_id": row.id, "note": note})
    update = (
        sa.update(event)
        .where(event.c.id == sa.bindparam("row_id"))
        .values(note=sa.bindparam("note"), detail="")
    )
    for batch in _batches(notes):
        conn.execute(update, batch)

    with op.batch_alter_table("suggestion", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_suggestion_routing_agency_id_agency"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_suggestion_routing_area_id_area"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_suggestion_routing_category_id_category"), type_="foreignkey"
        )
        batch_op.drop_column("routing_note")
        batch_op.drop_column("routing_agency_id")
        batch_op.drop_column("routing_area_id")
        batch_op.drop_column("routing_category_id")
        batch_op.drop_column("routing_kind")
