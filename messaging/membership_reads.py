"""The operations a socket's user may hear of, read from the database in batches per process.

Every open socket re-reads its user's operations when its copy is older than a second, before an
event is delivered (``consumers.MEMBERSHIP_RECHECK_SECONDS``: a removal holds even if its event
was lost). A broadcast reaches hundreds of sockets of one process at once; each asking on its own
would queue hundreds of queries on the process's one database thread. Here the sockets that ask
while a read is running wait for the next one, which answers all of them with one query.
"""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async

from aircop.loop_local import loop_local

from . import selectors


class MembershipReads:
    def __init__(self) -> None:
        self.waiting: dict[int, list[asyncio.Future]] = {}
        self.task: asyncio.Task | None = None

    async def operations_of(self, user_id: int) -> set[str]:
        """The slugs of the operations ``user_id`` is an active member of, read now."""
        answer = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(user_id, []).append(answer)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._read_while_asked())
        return await answer

    async def _read_while_asked(self) -> None:
        while self.waiting:
            await asyncio.sleep(0)  # the other sockets handling the same event ask meanwhile
            waiting, self.waiting = self.waiting, {}
            try:
                slugs = await database_sync_to_async(selectors.operation_slugs_by_user)(
                    user_ids=list(waiting)
                )
            except Exception as error:  # each socket's own handler sees it, as before
                for answers in waiting.values():
                    for answer in answers:
                        if not answer.done():
                            answer.set_exception(error)
                continue
            for user_id, answers in waiting.items():
                for answer in answers:
                    if not answer.done():
                        answer.set_result(set(slugs.get(user_id, ())))


reads = loop_local(MembershipReads)
