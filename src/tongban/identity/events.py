"""Events that identity emits (through ``tongban.core.events.event_emit``) and their payloads.

``person.registered``        {"person_id", "sex", "birth_date" (ISO), "district" (code or "")}
``person.updated``           {"person_id", "fields": [names of the changed fields]}
``organisation.registered``  {"organisation_id", "credit_code", "org_type", "district"}

Identity handles no events of other apps.
"""

PERSON_REGISTERED = "person.registered"
PERSON_UPDATED = "person.updated"
ORGANISATION_REGISTERED = "organisation.registered"
