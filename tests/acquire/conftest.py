"""moto's own server on 127.0.0.1, started here (never a hand-written fake), reset per test."""

from __future__ import annotations

import urllib.request

import pytest

ACQUIRER_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # moto answers unimplemented calls (Health, ListPublicKeys) with HTTP 500, which botocore would
    # retry four times; the code under test retries throttling itself (tested with Stubber)
    "AWS_MAX_ATTEMPTS": "1",
}


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url, monkeypatch):
    """Environment pointing boto3 at the moto server, with every backend emptied."""
    req = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(req).close()
    for k in [k for k in __import__("os").environ if k.startswith("AWS_")]:
        monkeypatch.delenv(k)
    for k, v in ACQUIRER_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return moto_url
