from tongban.proactive.tests.fixtures import messaging_templates  # noqa: F401
