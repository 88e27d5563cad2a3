from tongban.cases.tests.fixtures import handlers, newborn, parent  # noqa: F401
from tongban.portal.tests.fixtures import citizen, city  # noqa: F401
