import pytest
from django.utils import timezone

from accounts.models import Role
from tests.factories import OperationFactory, member


@pytest.fixture
def cocair():
    return OperationFactory(slug="cocair", name="COCAIR VI", ack_minutes_urgent=15)


@pytest.fixture
def ocu(cocair):
    return member(cocair, Role.OCU, "BE", "BRU", username="ocu")


@pytest.fixture
def officer(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="officer")


@pytest.fixture
def colleague(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="colleague", preferred_language="fr")


@pytest.fixture
def now():
    return timezone.now()
