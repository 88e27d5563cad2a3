from tongban.proactive.tests.fixtures import designer, messaging_templates, school_item  # noqa: F401
