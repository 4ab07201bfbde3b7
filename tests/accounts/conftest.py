import pytest

from accounts.models import Role
from tests.factories import OperationFactory, UserFactory, member


@pytest.fixture
def admin():
    """An operation administrator (staff), member of no operation."""
    return UserFactory(username="admin", is_staff=True, country="BE", airport="BRU")


@pytest.fixture
def cocair():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def ocu(cocair):
    return member(cocair, Role.OCU, "BE", "BRU", username="ocu")


@pytest.fixture
def officer(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="officer")
