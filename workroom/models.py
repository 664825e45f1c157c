"""Imports every area's models so the metadata is complete (migrations, tests)."""

from workroom.audit.models import AuditEvent
from workroom.auth.models import Role, User
from workroom.categories.models import Category
from workroom.outbox import models as outbox_models  # noqa: F401
from workroom.people.models import Agency, Deputy, ProfessionalGroup, Unavailability
from workroom.places.models import Area, Workroom
from workroom.runner import models as runner_models  # noqa: F401
from workroom.schedule import models as schedule_models  # noqa: F401
from workroom.suggestions import models as suggestions_models  # noqa: F401
from workroom.visits import models as visits_models  # noqa: F401
from workroom.workdays import models as workdays_models  # noqa: F401

__all__ = [
    "Agency",
    "Area",
    "AuditEvent",
    "Category",
    "Deputy",
    "ProfessionalGroup",
    "Role",
    "Unavailability",
    "User",
    "Workroom",
]
