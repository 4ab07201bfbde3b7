import pytest

from accounts.models import Role
from tests.factories import OperationFactory, member


@pytest.fixture
def cocair():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def ocu(cocair):
    return member(cocair, Role.OCU, "BE", "BRU", username="ocu")


@pytest.fixture
def officer(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="officer")


@pytest.fixture
def colleague(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="colleague")


@pytest.fixture
def outsider():
    """An active member of another operation only."""
    return member(OperationFactory(slug="elsewhere"), Role.OCU, "SN", "DSS", username="outsider")
