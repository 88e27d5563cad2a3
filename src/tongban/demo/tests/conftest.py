from tongban.portal.tests.fixtures import citizen, city  # noqa: F401
from tongban.proactive.tests.fixtures import messaging_templates  # noqa: F401
