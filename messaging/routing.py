"""Who may address whom: the one place that decides.

A sender picks targets, combinable: all OCUs, all national contacts, all
officers (plain users), everyone in my country, and a manual selection of
members. The policy, by the sender's role in the operation:

===================  =====  =================  ========  ==========  =====================
sender               ocus   national_contacts  officers  my_country  users (manual)
===================  =====  =================  ========  ==========  =====================
OCU                  yes    yes                yes       yes         any member
national contact     yes    yes                no        yes         OCUs, national contacts,
                                                                     members of own country
officer              yes    no                 no        yes         OCUs, members of own
                                                                     country (its national
                                                                     contacts included)
===================  =====  =================  ========  ==========  =====================

Targets resolve to the active members of the operation (active accounts
only), without the sender and without duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Q, QuerySet, TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, Role
from aircop.exceptions import DomainError


class Target(TextChoices):
    OCUS = "ocus", gettext_lazy("All OCUs")
    NATIONAL_CONTACTS = "national_contacts", gettext_lazy("All national contacts")
    OFFICERS = "officers", gettext_lazy("All officers")
    MY_COUNTRY = "my_country", gettext_lazy("Everyone in my country")
    USERS = "users", gettext_lazy("Selected members")


GROUP_TARGETS = (Target.OCUS, Target.NATIONAL_CONTACTS, Target.OFFICERS, Target.MY_COUNTRY)

TARGETS_BY_ROLE: dict[str, frozenset[Target]] = {
    Role.OCU: frozenset(Target),
    Role.NATIONAL_CONTACT: frozenset(
        {Target.OCUS, Target.NATIONAL_CONTACTS, Target.MY_COUNTRY, Target.USERS}
    ),
    Role.OFFICER: frozenset({Target.OCUS, Target.MY_COUNTRY, Target.USERS}),
}


@dataclass(frozen=True)
class Targets:
    """What the sender chose. ``users`` are usernames of members of the operation."""

    ocus: bool = False
    national_contacts: bool = False
    officers: bool = False
    my_country: bool = False
    users: tuple[str, ...] = field(default_factory=tuple)

    def chosen(self) -> list[Target]:
        chosen = [target for target in GROUP_TARGETS if getattr(self, target.value)]
        if self.users:
            chosen.append(Target.USERS)
        return chosen

    def as_dict(self) -> dict:
        return {
            "ocus": self.ocus,
            "national_contacts": self.national_contacts,
            "officers": self.officers,
            "my_country": self.my_country,
            "users": sorted(set(self.users)),
        }


class Recipient(NamedTuple):
    """A member a message goes to: what a send needs of them (a delivery, an event, the
    answer's list), read as plain rows, not as membership and user objects."""

    user_id: int
    username: str


def _as_recipients(rows) -> dict[int, Recipient]:
    return {user_id: Recipient(user_id, username) for user_id, username in rows}


def allowed_targets(sender: Membership) -> frozenset[Target]:
    targets = TARGETS_BY_ROLE[sender.role]
    if not sender.user.country:
        targets = targets - {Target.MY_COUNTRY}
    return targets


def _country_of(membership: Membership) -> str:
    return str(membership.user.country or "")


def may_address(sender: Membership, recipient: Membership) -> bool:
    """Whether ``sender`` may address ``recipient`` individually (manual selection)."""
    if sender.role == Role.OCU or recipient.role == Role.OCU:
        return True
    same_country = bool(_country_of(sender)) and _country_of(sender) == _country_of(recipient)
    if sender.role == Role.NATIONAL_CONTACT:
        return recipient.role == Role.NATIONAL_CONTACT or same_country
    return same_country


def _members(sender: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(
            operation_id=sender.operation_id, active=True, user__is_active=True
        )
        .exclude(user_id=sender.user_id)
        .select_related("user")
    )


def addressable_members(sender: Membership) -> QuerySet[Membership]:
    """The members ``sender`` may select by hand: the SQL twin of :func:`may_address`."""
    members = _members(sender)
    if sender.role == Role.OCU:
        return members.order_by("role", "user__country", "user__full_name")
    country = _country_of(sender)
    allowed = Q(role=Role.OCU)
    if country:
        allowed |= Q(user__country=country)
    if sender.role == Role.NATIONAL_CONTACT:
        allowed |= Q(role=Role.NATIONAL_CONTACT)
    return members.filter(allowed).order_by("role", "user__country", "user__full_name")


def resolve_recipients(sender: Membership, targets: Targets) -> list[Recipient]:
    """The members ``targets`` reach, by user id, or a DomainError naming the field at fault."""
    chosen = targets.chosen()
    if not chosen:
        raise DomainError(_("Choose at least one recipient."), field="to")
    allowed = allowed_targets(sender)
    for target in chosen:
        if target not in allowed:
            raise DomainError(
                _("Your role in this operation may not address “%(target)s”.")
                % {"target": target.label},
                field=f"to.{target.value}",
                code="forbidden_target",
            )

    members = _members(sender)
    group = Q(pk__in=[])
    if targets.ocus:
        group |= Q(role=Role.OCU)
    if targets.national_contacts:
        group |= Q(role=Role.NATIONAL_CONTACT)
    if targets.officers:
        group |= Q(role=Role.OFFICER)
    if targets.my_country:
        group |= Q(user__country=_country_of(sender))
    recipients = _as_recipients(members.filter(group).values_list("user_id", "user__username"))

    if targets.users:
        wanted = set(targets.users)
        selected = {m.user.username: m for m in members.filter(user__username__in=wanted)}
        unknown = sorted(wanted - set(selected) - {sender.user.username})
        if unknown:
            raise DomainError(
                _("Not an active member of this operation: %(users)s")
                % {"users": ", ".join(unknown)},
                field="to.users",
                code="unknown_recipient",
            )
        forbidden = sorted(name for name, m in selected.items() if not may_address(sender, m))
        if forbidden:
            raise DomainError(
                _("Your role in this operation may not address: %(users)s")
                % {"users": ", ".join(forbidden)},
                field="to.users",
                code="forbidden_recipient",
            )
        recipients.update(_as_recipients((m.user_id, name) for name, m in selected.items()))

    if not recipients:
        raise DomainError(
            _("No active member of the operation matches these recipients."), field="to"
        )
    return sorted(recipients.values())


def resolve_reply_recipients(sender: Membership, alert, targets: Targets) -> list[Recipient]:
    """A Response or a Seizure about an Alert goes to the Alert's sender and the OCUs, whatever
    the policy (they asked); any extra targets follow the policy."""
    members = _members(sender).filter(Q(role=Role.OCU) | Q(user_id=alert.sender_id))
    recipients = _as_recipients(members.values_list("user_id", "user__username"))
    if targets.chosen():
        recipients.update({r.user_id: r for r in resolve_recipients(sender, targets)})
    if not recipients:
        raise DomainError(
            _("No active member of the operation matches these recipients."), field="to"
        )
    return sorted(recipients.values())
