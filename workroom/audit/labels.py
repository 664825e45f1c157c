"""What the codes of the audit log mean, in the reader's language.

The log stores codes (``login.success``, ``reception_day``) so that it reads the same in
every language and after any rewording; pages show these words beside them. A code
missing here is shown as it is.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

ACTIONS = {
    "login.success": _l("Signed in"),
    "login.failure": _l("Sign-in failed"),
    "login.throttled": _l("Sign-in attempts throttled"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.activate": _l("Account reactivated"),
    "user.deactivate": _l("Account deactivated"),
    "user.role_change": _l("Role changed"),
    "user.password_reset": _l("Password reset by an administrator"),
    "user.password_change": _l("Password changed"),
    "user.locked": _l("Account locked after failed sign-ins"),
    "area.create": _l("Area created"),
    "area.update": _l("Area changed"),
    "area.activate": _l("Area reactivated"),
    "area.deactivate": _l("Area deactivated"),
    "workroom.create": _l("Workroom created"),
    "workroom.update": _l("Workroom changed"),
    "workroom.activate": _l("Workroom reactivated"),
    "workroom.deactivate": _l("Workroom deactivated"),
    "deputy.create": _l("Deputy added"),
    "deputy.update": _l("Deputy changed"),
    "deputy.activate": _l("Deputy reactivated"),
    "deputy.deactivate": _l("Deputy deactivated"),
    "deputy.import": _l("Deputies imported"),
    "unavailability.create": _l("Unavailability added"),
    "unavailability.delete": _l("Unavailability removed"),
    "group.create": _l("Professional group created"),
    "group.update": _l("Professional group changed"),
    "group.activate": _l("Professional group reactivated"),
    "group.deactivate": _l("Professional group deactivated"),
    "agency.create": _l("Agency created"),
    "agency.update": _l("Agency changed"),
    "agency.activate": _l("Agency reactivated"),
    "agency.deactivate": _l("Agency deactivated"),
    "category.create": _l("Category created"),
    "category.update": _l("Category changed"),
    "category.activate": _l("Category reactivated"),
    "category.deactivate": _l("Category deactivated"),
    "calendar_adjustment.create": _l("Holiday arrangement added"),
    "calendar_adjustment.delete": _l("Holiday arrangement removed"),
    "confirmed_year.create": _l("Holiday arrangements of a year confirmed"),
    "calendar.acknowledge": _l("Unconfirmed year checked by hand"),
    "reception_rule.create": _l("Reception rule created"),
    "reception_rule.update": _l("Reception rule changed"),
    "reception_rule.activate": _l("Reception rule reactivated"),
    "reception_rule.deactivate": _l("Reception rule deactivated"),
    "roster.generate": _l("Roster drafted"),
    "roster.publish": _l("Roster published"),
    "reception_day.replace": _l("Deputy replaced on a reception day"),
    "reception_day.add_deputy": _l("Deputy added to a reception day"),
    "reception_day.remove_deputy": _l("Deputy taken off a reception day"),
    "reception_day.cancel": _l("Reception day cancelled"),
    "assignment.confirm": _l("Reception day confirmed by the deputy"),
    "assignment.decline": _l("Reception day declined by the deputy"),
    "swap_request.create": _l("Swap requested"),
    "swap_request.approve": _l("Swap approved"),
    "swap_request.refuse": _l("Swap refused"),
    "feed_token.issue": _l("Private calendar link issued"),
    "feed_token.revoke": _l("Private calendar link revoked"),
    "kiosk.create": _l("Kiosk registered"),
    "kiosk.pairing_code": _l("New pairing code for a kiosk"),
    "kiosk.pair": _l("Kiosk paired"),
    "kiosk.revoke": _l("Kiosk revoked"),
    "duty.sign_in": _l("Deputy signed in for reception"),
    "visit.checkin": _l("Visitor checked in"),
    "visit.message": _l("Message left"),
    "visit.record": _l("Visit recorded"),
    "visit.call": _l("Ticket called"),
    "visit.recall": _l("Ticket called again"),
    "visit.start": _l("Reception started"),
    "visit.finish": _l("Reception finished"),
    "visit.no_show": _l("Visitor did not come"),
    "visit.transfer": _l("Visitor transferred"),
    "visit.reveal_phone": _l("Full phone number shown"),
    "visit.purge": _l("Visitor details removed after retention"),
    "suggestion.purge": _l("Suggestion citizens removed after retention"),
    "suggestion.create": _l("Suggestion raised"),
    "suggestion.assign": _l("Suggestion assigned"),
    "suggestion.merge": _l("Suggestion merged"),
    "suggestion.export": _l("Suggestions exported"),
    "suggestion.access_denied": _l("Suggestion refused: out of scope"),
    "attachment.create": _l("Attachment added"),
    "attachment.download": _l("Attachment downloaded"),
    "attachment.purge": _l("Attachments removed after retention"),
    "routing_rule.create": _l("Routing rule created"),
    "routing_rule.update": _l("Routing rule changed"),
    "routing_rule.activate": _l("Routing rule reactivated"),
    "routing_rule.deactivate": _l("Routing rule deactivated"),
    "outbox.retry": _l("Message sent again"),
    "outbox.purge": _l("Message recipients removed after retention"),
}

OBJECTS = {
    "user": _l("Account"),
    "area": _l("Area"),
    "workroom": _l("Workroom"),
    "deputy": _l("Deputy"),
    "unavailability": _l("Unavailability"),
    "professional_group": _l("Professional group"),
    "agency": _l("Agency"),
    "category": _l("Category"),
    "calendar_adjustment": _l("Holiday arrangement"),
    "confirmed_year": _l("Confirmed year"),
    "reception_rule": _l("Reception rule"),
    "roster": lazy_pgettext("audit object", "Roster"),
    "reception_day": _l("Reception day"),
    "assignment": _l("Duty"),
    "swap_request": _l("Swap request"),
    "kiosk": _l("Kiosk"),
    "visit": _l("Visit"),
    "suggestion": _l("Suggestion"),
    "attachment": _l("Attachment"),
    "routing_rule": _l("Routing rule"),
    "outbox_message": _l("Message"),
    "duty_attendance": _l("Deputy on duty"),
}


def action_label(code: str) -> str:
    """The words for an action code, or the code itself when it has none."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def object_label(code: str) -> str:
    """The words for an object type, or the type itself when it has none."""
    label = OBJECTS.get(code)
    return str(label) if label is not None else code
