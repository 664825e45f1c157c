"""foundation

Revision ID: 15c1843aec32
Revises:
Create Date: 2026-11-28 06:09:20.206444

"""

import datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "15c1843aec32"
down_revision = None
branch_labels = None
depends_on = None


ROLES = [
    ("admin", "Administrator"),
    ("viewer", "Viewer (read-only)"),
    ("liaison", "Liaison"),
    ("deputy", "Deputy"),
    ("agency_handler", "Agency handler"),
]

# code, Chinese label, English label, sub-categories (code, zh, en)
CATEGORIES = [
    (
        "urban",
        "城乡建设",
        "Urban and rural development",
        [
            ("urban-housing", "住房与物业", "Housing and property management"),
            ("urban-renewal", "老旧小区改造", "Renewal of old residential areas"),
            ("urban-roads", "市政道路与设施", "Municipal roads and facilities"),
        ],
    ),
    (
        "environment",
        "生态环境",
        "Ecology and environment",
        [
            ("environment-air", "大气污染", "Air pollution"),
            ("environment-water", "水污染与河道", "Water pollution and rivers"),
            ("environment-noise", "噪声扰民", "Noise"),
            ("environment-waste", "垃圾分类与处理", "Waste sorting and disposal"),
        ],
    ),
    (
        "health",
        "医疗卫生",
        "Health care",
        [
            ("health-community", "社区医疗", "Community health services"),
            ("health-insurance", "医保报销", "Medical insurance reimbursement"),
            ("health-elderly", "医养结合", "Care for the elderly"),
        ],
    ),
    (
        "social-security",
        "社会保障",
        "Social security",
        [
            ("social-security-pension", "养老保险", "Pensions"),
            ("social-security-assistance", "社会救助", "Social assistance"),
            ("social-security-employment", "就业创业", "Employment"),
        ],
    ),
    (
        "education",
        "教育",
        "Education",
        [
            ("education-enrolment", "入学与学位", "School places and enrolment"),
            ("education-childcare", "托育与学前教育", "Childcare and preschool"),
            ("education-safety", "校园周边安全", "Safety around schools"),
        ],
    ),
    (
        "agriculture",
        "农业农村",
        "Agriculture and rural affairs",
        [
            ("agriculture-land", "土地与承包", "Land and contracts"),
            ("agriculture-irrigation", "农田水利", "Irrigation"),
            ("agriculture-village", "村容村貌", "Village environment"),
        ],
    ),
    (
        "transport",
        "交通出行",
        "Transport",
        [
            ("transport-bus", "公交线路", "Bus routes"),
            ("transport-parking", "停车难", "Parking"),
            ("transport-safety", "交通安全", "Road safety"),
        ],
    ),
    (
        "community",
        "社区治理",
        "Community governance",
        [
            ("community-services", "便民服务", "Neighbourhood services"),
            ("community-disputes", "邻里纠纷", "Disputes between neighbours"),
            ("community-safety", "治安与消防", "Public order and fire safety"),
        ],
    ),
    ("other", "其他", "Other", []),
]


def seed_reference_data():
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    role = sa.table(
        "role", sa.column("name"), sa.column("description"), sa.column("update_datetime")
    )
    op.bulk_insert(role, [{"name": n, "description": d, "update_datetime": now} for n, d in ROLES])
    category = sa.table(
        "category",
        sa.column("id"),
        sa.column("code"),
        sa.column("parent_id"),
        sa.column("label_zh"),
        sa.column("label_en"),
        sa.column("position"),
        sa.column("active"),
        sa.column("created_at"),
        sa.column("updated_at"),
    )
    rows, next_id = [], 1
    for position, (code, zh, en, children) in enumerate(CATEGORIES):
        parent_id = next_id
        rows.append(
            {
                "id": parent_id,
                "code": code,
                "parent_id": None,
                "label_zh": zh,
                "label_en": en,
                "position": position,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
        )
        next_id += 1
        for child_position, (child_code, child_zh, child_en) in enumerate(children):
            rows.append(
                {
                    "id": next_id,
                    "code": child_code,
                    "parent_id": parent_id,
                    "label_zh": child_zh,
                    "label_en": child_en,
                    "position": child_position,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            next_id += 1
    op.bulk_insert(category, rows)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('category', 'id'), (SELECT max(id) FROM category))"
        )


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["area.id"], name=op.f("fk_area_parent_id_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area")),
        sa.UniqueConstraint("parent_id", "name", name=op.f("uq_area_parent_id_name")),
    )
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_area_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("label_zh", sa.String(length=60), nullable=False),
        sa.Column("label_en", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["category.id"], name=op.f("fk_category_parent_id_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("code", name=op.f("uq_category_code")),
    )
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_category_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "deputy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("term", sa.String(length=30), nullable=False),
        sa.Column("constituency", sa.String(length=100), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=120), nullable=False),
        sa.Column("monthly_cap", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deputy")),
    )
    with op.batch_alter_table("deputy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deputy_name"), ["name"], unique=False)

    op.create_table(
        "professional_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_professional_group")),
        sa.UniqueConstraint("code", name=op.f("uq_professional_group_code")),
    )
    op.create_table(
        "role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("permissions", sa.Text(), nullable=True),
        sa.Column("update_datetime", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role")),
        sa.UniqueConstraint("name", name=op.f("uq_role_name")),
    )
    op.create_table(
        "agency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.String(length=50), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=120), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_agency_area_id_area")),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["agency.id"], name=op.f("fk_agency_supervisor_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
        sa.UniqueConstraint("code", name=op.f("uq_agency_code")),
    )
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_area_id"), ["area_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_agency_supervisor_id"), ["supervisor_id"], unique=False
        )

    op.create_table(
        "deputy_group",
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deputy_id"],
            ["deputy.id"],
            name=op.f("fk_deputy_group_deputy_id_deputy"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["professional_group.id"],
            name=op.f("fk_deputy_group_group_id_professional_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deputy_id", "group_id", name=op.f("pk_deputy_group")),
    )
    op.create_table(
        "workroom",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("liaison_hours", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_workroom_area_id_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workroom")),
        sa.UniqueConstraint("slug", name=op.f("uq_workroom_slug")),
    )
    with op.batch_alter_table("workroom", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workroom_area_id"), ["area_id"], unique=False)

    op.create_table(
        "deputy_workroom",
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("workroom_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deputy_id"],
            ["deputy.id"],
            name=op.f("fk_deputy_workroom_deputy_id_deputy"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workroom_id"],
            ["workroom.id"],
            name=op.f("fk_deputy_workroom_workroom_id_workroom"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deputy_id", "workroom_id", name=op.f("pk_deputy_workroom")),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("password", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("fs_uniquifier", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("current_login_at", sa.DateTime(), nullable=True),
        sa.Column("last_login_ip", sa.String(length=64), nullable=True),
        sa.Column("current_login_ip", sa.String(length=64), nullable=True),
        sa.Column("login_count", sa.Integer(), nullable=True),
        sa.Column("password_change_required", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("locale", sa.String(length=20), nullable=True),
        sa.Column("deputy_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_user_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_user_deputy_id_deputy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("email", name=op.f("uq_user_email")),
        sa.UniqueConstraint("fs_uniquifier", name=op.f("uq_user_fs_uniquifier")),
        sa.UniqueConstraint("username", name=op.f("uq_user_username")),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_deputy_id"), ["deputy_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_audit_event_actor_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)

    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.id"], name=op.f("fk_user_role_role_id_role"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_role_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_role")),
    )
    op.create_table(
        "user_workroom",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("workroom_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_workroom_user_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workroom_id"],
            ["workroom.id"],
            name=op.f("fk_user_workroom_workroom_id_workroom"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "workroom_id", name=op.f("pk_user_workroom")),
    )
    # ### end Alembic commands ###

    op.create_table(
        "unavailability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_unavailability_period_order")),
        sa.ForeignKeyConstraint(
            ["deputy_id"],
            ["deputy.id"],
            name=op.f("fk_unavailability_deputy_id_deputy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unavailability")),
    )
    with op.batch_alter_table("unavailability", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unavailability_deputy_id"), ["deputy_id"], unique=False
        )

    seed_reference_data()


def downgrade():
    op.drop_table("unavailability")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table("user_workroom")
    op.drop_table("user_role")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_deputy_id"))
        batch_op.drop_index(batch_op.f("ix_user_agency_id"))

    op.drop_table("user")
    op.drop_table("deputy_workroom")
    with op.batch_alter_table("workroom", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workroom_area_id"))

    op.drop_table("workroom")
    op.drop_table("deputy_group")
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_supervisor_id"))
        batch_op.drop_index(batch_op.f("ix_agency_area_id"))

    op.drop_table("agency")
    op.drop_table("role")
    op.drop_table("professional_group")
    with op.batch_alter_table("deputy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deputy_name"))

    op.drop_table("deputy")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_parent_id"))

    op.drop_table("category")
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_area_parent_id"))

    op.drop_table("area")
    # ### end Alembic commands ###
