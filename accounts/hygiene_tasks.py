"""Celery tasks of account hygiene (accounts.hygiene): thin wrappers taking ids.

Kept out of accounts/tasks.py (the operation lifecycle); registered through CELERY_IMPORTS.
"""

from __future__ import annotations

from celery import shared_task

from aircop.celery import RETRY_OPTIONS

from . import hygiene


@shared_task(name="accounts.account_hygiene_enqueue", ignore_result=True)
def account_hygiene_enqueue() -> dict[str, int]:
    remind = hygiene.accounts_to_remind()
    block = hygiene.accounts_to_block()
    for user_id in remind:
        account_block_remind.delay(user_id)
    for user_id in block:
        account_block_idle.delay(user_id)
    return {"reminded": len(remind), "blocked": len(block)}


@shared_task(name="accounts.account_block_remind", ignore_result=True, **RETRY_OPTIONS)
def account_block_remind(user_id: int) -> bool:
    return hygiene.account_block_remind(user_id=user_id)


@shared_task(name="accounts.account_block_idle", ignore_result=True, **RETRY_OPTIONS)
def account_block_idle(user_id: int) -> bool:
    return hygiene.account_block_idle(user_id=user_id)
