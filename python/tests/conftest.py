import pytest

import unipoll


@pytest.fixture(params=unipoll.available_backends())
def backend(request):
    """Each test runs once per backend available on this kernel."""
    return request.param
