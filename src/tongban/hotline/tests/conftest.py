from tongban.portal.tests.fixtures import citizen, city  # noqa: F401
