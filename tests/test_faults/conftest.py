"""Generated data shared by the fault tests (written once per session)."""
import pytest

from tests.test_faults import faultkit


@pytest.fixture(scope='session')
def fault_data(tmp_path_factory):
    return faultkit.make_data(str(tmp_path_factory.mktemp('fault_data')))
