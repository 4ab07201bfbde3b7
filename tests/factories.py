"""factory_boy factories for the domain models."""

from datetime import date

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Membership, Operation, OperationStatus, Role, User

PASSWORD = "correct-horse-battery-staple"
# Hashing once keeps the suite fast: every factory user shares this password.
_PASSWORD_HASH = make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"officer{n}")
    full_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    country = "SN"
    airport = "DSS"
    password = _PASSWORD_HASH


class OperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Operation {n}")
    slug = factory.Sequence(lambda n: f"op{n}")
    start_date = date(2017, 12, 9)
    end_date = date(2017, 12, 17)
    status = OperationStatus.ACTIVE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    operation = factory.SubFactory(OperationFactory)
    role = Role.OFFICER


def member(operation, role=Role.OFFICER, country="SN", airport="DSS", **user_fields):
    """A user who is an active member of ``operation`` with ``role``; returns the membership."""
    user = UserFactory(country=country, airport=airport, **user_fields)
    return MembershipFactory(user=user, operation=operation, role=role)


def delivered_in_reverse(first, second, recipient) -> None:
    """Give ``recipient`` the deliveries of two messages in the other order than their ids: as
    when the message numbered first committed last."""
    from messaging.models import Delivery

    Delivery.objects.filter(recipient=recipient, message__in=[first, second]).delete()
    Delivery.objects.create(message=second, recipient=recipient)
    Delivery.objects.create(message=first, recipient=recipient)
