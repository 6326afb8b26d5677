"""Start the real action server and Rasa server once for the end-to-end tests."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.servers import Servers, running_system


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with running_system(tmp_path_factory.mktemp("e2e"), with_api=False) as running:
        yield running
