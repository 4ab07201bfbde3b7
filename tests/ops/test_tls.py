"""``make run-tls``: the app over HTTPS and wss with the self-signed certificate it makes."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from accounts.models import Role
from accounts.services import api_token_create
from aircop.dev_tls import daphne_endpoint, ensure_certificate, names_for
from tests.conftest import ROOT, _free_port, _tcp_open, server_environment
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.integration

WAIT = 20


@pytest.fixture
def tls_server(transactional_db, tmp_path):
    """daphne started as ``make run-tls`` starts it, on the test database."""
    cert_path, key_path = ensure_certificate(tmp_path / "tls", names_for("127.0.0.1"))
    port = _free_port()
    endpoint = daphne_endpoint(port=port, host="127.0.0.1", cert_path=cert_path, key_path=key_path)
    log = tmp_path / "daphne-tls.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-e", endpoint, "aircop.asgi:application"],
        cwd=ROOT,
        env=server_environment(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while not _tcp_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"daphne (TLS) did not start:\n{log.read_text()}")
        time.sleep(0.1)
    yield port, ssl.create_default_context(cafile=str(cert_path))
    process.terminate()
    process.wait(timeout=10)


def test_https_and_wss_carry_a_message_end_to_end(tls_server):
    port, trust = tls_server
    operation = OperationFactory()
    ocu = member(operation, Role.OCU, "FR", "CDG")
    officer = member(operation)
    ocu_secret = api_token_create(user=ocu.user, name="tls")[1]
    officer_secret = api_token_create(user=officer.user, name="tls")[1]

    async def scenario():
        # given an officer's client on wss://, trusting the generated certificate
        async with connect(
            f"wss://127.0.0.1:{port}/ws/",
            ssl=trust,
            additional_headers={"Authorization": f"Bearer {officer_secret}"},
            open_timeout=WAIT,
        ) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            # when the OCU sends through the API over https://
            async with httpx.AsyncClient(
                base_url=f"https://127.0.0.1:{port}", verify=trust, timeout=WAIT
            ) as http:
                login = await http.get("/accounts/login/")
                response = await http.post(
                    f"/api/v1/operations/{operation.slug}/messages",
                    headers={"Authorization": f"Bearer {ocu_secret}"},
                    json={
                        "kind": "free_text",
                        "subject": "Over TLS",
                        "body": "Encrypted on the wire.",
                        "to": {"officers": True},
                    },
                )
            event = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        return hello, login, response, event

    hello, login, response, event = asyncio.run(scenario())

    # then both legs work over TLS and the event arrives on the encrypted socket
    assert hello["type"] == "hello"
    assert login.status_code == 200
    assert response.status_code == 201, response.text
    assert (event["type"], event["message"]["subject"]) == ("message.new", "Over TLS")


def test_the_server_speaks_only_tls_with_the_generated_certificate(tls_server):
    port, _trust = tls_server

    # a client that does not trust the self-signed certificate refuses it
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://127.0.0.1:{port}/health/live", timeout=WAIT)
    # and plain HTTP on the TLS port gets no HTTP answer
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=WAIT)
