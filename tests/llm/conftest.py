"""Fixtures for the LLM tests: a scripted provider server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_provider import FakeProvider


@pytest.fixture()
def provider() -> Iterator[FakeProvider]:
    server = FakeProvider()
    with server.running():
        yield server
