from accounts.selectors import memberships_of

from .selectors import last_delivery_id, unread_counts


def unread(request):
    """The header's operation switcher and unread counts (signed-in users only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    counts = unread_counts(user=user)
    memberships = list(memberships_of(user=user))
    for membership in memberships:
        membership.unread = counts.get(membership.operation.slug, 0)
    return {
        "my_memberships": memberships,
        "unread_total": sum(counts.values()),
        # The live client resumes after this id: nothing sent after the page rendered is lost.
        "last_delivery_id": last_delivery_id(user=user),
    }
