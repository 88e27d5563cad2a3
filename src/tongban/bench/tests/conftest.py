from tongban.portal.tests.fixtures import city  # noqa: F401
