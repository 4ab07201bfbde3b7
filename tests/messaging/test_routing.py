"""The routing policy as a matrix: each role × each target, allowed and refused."""

import pytest

from accounts.models import Role
from aircop.exceptions import DomainError
from messaging.routing import Targets, addressable_members, may_address, resolve_recipients
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def op():
    """An operation with two of each role in Senegal and in Nigeria, one OCU in Belgium."""
    operation = OperationFactory(slug="cocair")
    people = {
        "ocu_be": member(operation, Role.OCU, "BE", "BRU", username="ocu_be"),
        "ocu_sn": member(operation, Role.OCU, "SN", "DSS", username="ocu_sn"),
        "nc_sn": member(operation, Role.NATIONAL_CONTACT, "SN", "DSS", username="nc_sn"),
        "nc_ng": member(operation, Role.NATIONAL_CONTACT, "NG", "LOS", username="nc_ng"),
        "off_sn": member(operation, Role.OFFICER, "SN", "DSS", username="off_sn"),
        "off_sn2": member(operation, Role.OFFICER, "SN", "DSS", username="off_sn2"),
        "off_ng": member(operation, Role.OFFICER, "NG", "LOS", username="off_ng"),
    }
    # Not in this operation: must never be reached.
    other = OperationFactory(slug="other")
    member(other, Role.OFFICER, "SN", "DSS", username="outsider")
    return people


def names(memberships):
    return sorted(r.username for r in memberships)


# sender, target, expected recipients (None: refused)
MATRIX = [
    ("ocu_be", Targets(ocus=True), ["ocu_sn"]),
    ("ocu_be", Targets(national_contacts=True), ["nc_ng", "nc_sn"]),
    ("ocu_be", Targets(officers=True), ["off_ng", "off_sn", "off_sn2"]),
    ("ocu_sn", Targets(my_country=True), ["nc_sn", "off_sn", "off_sn2"]),
    ("ocu_be", Targets(users=("off_ng", "nc_sn")), ["nc_sn", "off_ng"]),
    ("nc_sn", Targets(ocus=True), ["ocu_be", "ocu_sn"]),
    ("nc_sn", Targets(national_contacts=True), ["nc_ng"]),
    ("nc_sn", Targets(officers=True), None),
    ("nc_sn", Targets(my_country=True), ["ocu_sn", "off_sn", "off_sn2"]),
    ("nc_sn", Targets(users=("off_sn", "nc_ng", "ocu_be")), ["nc_ng", "ocu_be", "off_sn"]),
    ("nc_sn", Targets(users=("off_ng",)), None),
    ("off_sn", Targets(ocus=True), ["ocu_be", "ocu_sn"]),
    ("off_sn", Targets(national_contacts=True), None),
    ("off_sn", Targets(officers=True), None),
    ("off_sn", Targets(my_country=True), ["nc_sn", "ocu_sn", "off_sn2"]),
    ("off_sn", Targets(users=("nc_sn", "off_sn2", "ocu_be")), ["nc_sn", "ocu_be", "off_sn2"]),
    ("off_sn", Targets(users=("nc_ng",)), None),
    ("off_sn", Targets(users=("off_ng",)), None),
]


@pytest.mark.parametrize(("sender", "targets", "expected"), MATRIX)
def test_routing_matrix(op, sender, targets, expected):
    # Given a sender with a role in the operation, when it addresses a target,
    if expected is None:
        with pytest.raises(DomainError) as error:
            resolve_recipients(op[sender], targets)
        # then a refusal names the target at fault,
        assert error.value.field.startswith("to.")
    else:
        # or the target resolves to exactly these members.
        assert names(resolve_recipients(op[sender], targets)) == expected


def test_targets_combine_without_duplicates_and_without_sender(op):
    recipients = resolve_recipients(
        op["ocu_sn"], Targets(ocus=True, my_country=True, users=("nc_sn", "ocu_sn"))
    )
    assert names(recipients) == ["nc_sn", "ocu_be", "off_sn", "off_sn2"]


def test_no_target_is_refused(op):
    with pytest.raises(DomainError) as error:
        resolve_recipients(op["off_sn"], Targets())
    assert error.value.field == "to"


def test_member_of_another_operation_cannot_be_selected(op):
    with pytest.raises(DomainError) as error:
        resolve_recipients(op["ocu_be"], Targets(users=("outsider",)))
    assert error.value.field == "to.users"
    assert "outsider" in error.value.message


def test_inactive_members_and_accounts_are_not_reached(op):
    op["off_sn2"].active = False
    op["off_sn2"].save()
    op["nc_sn"].user.is_active = False
    op["nc_sn"].user.save()
    assert names(resolve_recipients(op["ocu_sn"], Targets(my_country=True))) == ["off_sn"]
    with pytest.raises(DomainError):
        resolve_recipients(op["ocu_be"], Targets(users=("off_sn2",)))


def test_a_target_that_matches_nobody_is_refused(op):
    alone = OperationFactory(slug="alone")
    sender = member(alone, Role.OCU, username="lonely")
    with pytest.raises(DomainError) as error:
        resolve_recipients(sender, Targets(ocus=True))
    assert error.value.field == "to"


@pytest.mark.parametrize("sender", ["ocu_be", "ocu_sn", "nc_sn", "nc_ng", "off_sn", "off_ng"])
def test_addressable_members_agrees_with_may_address(op, sender):
    s = op[sender]
    listed = {m.pk for m in addressable_members(s)}
    expected = {m.pk for m in op.values() if m.pk != s.pk and may_address(s, m)}
    assert listed == expected
