import pytest

from vireo import Vireo


@pytest.fixture
def boot():
    """boot(**kwargs) starts a Vireo; every instance is killed at the end of the test."""
    started = []

    def start(**kw):
        v = Vireo(**kw)
        started.append(v)
        return v

    yield start
    for v in started:
        v.close()
