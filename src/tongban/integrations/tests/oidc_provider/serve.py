"""Run the test OpenID Connect provider: ``python -m tongban.integrations.tests.oidc_provider.serve`` with
OIDC_PROVIDER_DB (a scratch SQLite file), OIDC_PROVIDER_SETUP (JSON: the users and the relying party) set.

Migrates, creates the users and the client, then serves on 127.0.0.1 on a free port, printing
``READY <port>`` on its first line of output."""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.integrations.tests.oidc_provider.settings")


def main():
    import django

    django.setup()
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    setup = json.loads(os.environ["OIDC_PROVIDER_SETUP"])
    call_command("migrate", verbosity=0)
    for person in setup["users"]:
        User.objects.create_user(
            person["username"],
            password=person["password"],
            first_name=person.get("resident_id", ""),
            last_name="verified" if person.get("verified") else "",
        )
    Application.objects.create(
        client_id=setup["client_id"],
        client_secret=setup["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=setup["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        name="Tongban",
    )

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    print(f"READY {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
