"""API: the operations of the signed-in user."""

from datetime import date

from ninja import Router, Schema

from .selectors import memberships_of

router = Router(tags=["operations"])


class OperationOut(Schema):
    slug: str
    name: str
    description: str
    start_date: date
    end_date: date
    status: str
    role: str
    accepts_messages: bool


@router.get("/operations", response=list[OperationOut], summary="My operations, with my role")
def operations_list(request):
    return [
        OperationOut(
            slug=m.operation.slug,
            name=m.operation.name,
            description=m.operation.description,
            start_date=m.operation.start_date,
            end_date=m.operation.end_date,
            status=m.operation.status,
            role=m.role,
            accepts_messages=m.operation.accepts_messages,
        )
        for m in memberships_of(user=request.auth)
    ]
