"""The OpenAPI security scheme of API clients: OAuth 2 client credentials, with the scope each operation needs."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tongban.integrations.authentication.ClientTokenAuthentication"
    name = "apiClient"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "Systems of other departments and districts: OAuth 2 client credentials "
            "(docs/integration.md). Each operation names the scope it needs.",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/oauth/token/",
                    "scopes": dict(settings.OAUTH2_PROVIDER["SCOPES"]),
                }
            },
        }

    def get_security_requirement(self, auto_schema):
        scopes = getattr(auto_schema.view, "required_scopes", {}) or {}
        method = auto_schema.method.lower()
        scope = scopes.get("get" if method == "head" else method)
        return {self.name: [scope] if scope else []}
