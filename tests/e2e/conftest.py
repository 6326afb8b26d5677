"""Start the real action server and Rasa server once for the end-to-end tests."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.servers import Servers, trained_model


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    running = Servers(tmp_path_factory.mktemp("e2e"))
    try:
        running.start(trained_model())
        yield running
    finally:
        running.stop()
