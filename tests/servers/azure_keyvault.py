"""A local Azure Key Vault (secrets, read path) and Microsoft Entra ID token endpoint that follow
the published REST contract, for keyward's tests. Not an emulator of the whole service.

Contract followed (learn.microsoft.com, Key Vault REST API 7.5 and Microsoft identity platform):
- GET /secrets/{name}[/{version}]?api-version=7.5 with `Authorization: Bearer <token>`
  -> 200 SecretBundle {value, id, attributes: {enabled, nbf, exp, created, updated,
  recoveryLevel}, tags}; 404 {"error": {"code": "SecretNotFound", ...}}; a disabled secret
  -> 403 {"error": {"code": "Forbidden", ..., "innererror": {"code": "SecretDisabled"}}};
  no or a wrong token -> 401 with WWW-Authenticate; a missing or unknown api-version -> 400
  BadParameter; names are `[0-9a-zA-Z-]{1,127}`, compared without regard to case.
- POST /{tenant}/oauth2/v2.0/token (client credentials, form encoded, with a client_secret or
  a client_assertion of type jwt-bearer) -> {token_type, expires_in, access_token}; a wrong
  secret -> 401 invalid_client (AADSTS7000215), a wrong assertion -> 401 (AADSTS700213).
- GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=... with `Metadata: true`
  (the VM instance metadata service) -> {access_token, expires_in: "3599", expires_on, resource,
  token_type}.
- GET /msi/token?api-version=2019-08-01&resource=... with `X-IDENTITY-HEADER` (App Service's
  IDENTITY_ENDPOINT; the header's value from AZ_TEST_IDENTITY_HEADER) -> {access_token,
  expires_on (Unix seconds as a string), resource, token_type, client_id}.

Test controls (not part of the service): PUT /_test/secrets/{name} adds a version ({value,
enabled, exp, nbf}); POST /_test/faults; GET /_test/log; POST /_test/revoke invalidates the
tokens issued so far; POST /_test/deny makes every read a 403 AccessDenied. Configuration from
the environment: AZ_TEST_TENANT, AZ_TEST_CLIENT_ID, AZ_TEST_CLIENT_SECRET, AZ_TEST_FEDERATED_TOKEN,
AZ_TEST_IDENTITY_HEADER.
"""

import os
import re
import secrets
import time
from urllib.parse import parse_qs

from contract import Handler, State, serve

API_VERSIONS = {"7.4", "7.5", "2025-07-01"}
NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
SCOPE = "https://vault.azure.net/.default"
RESOURCE = "https://vault.azure.net"


class VaultState(State):
    def __init__(self):
        super().__init__()
        self.secrets = {}  # lowercase name -> [version dicts], newest last
        self.tokens = set()
        self.deny = False


def vault_error(code, message, inner=None):
    error = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return {"error": error}


class KeyVault(Handler):
    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def route(self):
        path, query = self.parts()
        self.record(path, query)
        if path.startswith("/_test/"):
            if self.handle_test(path) is None:
                self.test_controls(path)
            return
        if path == "/metadata/identity/oauth2/token" and self.command == "GET":
            return self.imds(query)
        if path == "/msi/token" and self.command == "GET":
            return self.app_service(query)
        match = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if match and self.command == "POST":
            return self.token(match.group(1))
        match = re.fullmatch(r"/secrets/([^/]+)(?:/([^/]*))?", path)
        if match and self.command == "GET":
            return self.get_secret(match.group(1), match.group(2) or "", query)
        self.reply(404, vault_error("NotFound", "no such operation"))

    def test_controls(self, path):
        match = re.fullmatch(r"/_test/secrets/([^/]+)", path)
        if match and self.command == "PUT":
            body = self.json_body()
            name = match.group(1)
            now = int(time.time())
            version = {
                "name": name,
                "version": secrets.token_hex(16),
                "value": body["value"],
                "enabled": body.get("enabled", True),
                "exp": body.get("exp"),
                "nbf": body.get("nbf"),
                "created": body.get("created", now),
                "updated": now,
            }
            with self.state.lock:
                self.state.secrets.setdefault(name.lower(), []).append(version)
            return self.reply(200, {"version": version["version"]})
        if path == "/_test/revoke" and self.command == "POST":
            # Every token issued so far stops working, as after a key rotation.
            with self.state.lock:
                self.state.tokens.clear()
            return self.reply(204)
        if path == "/_test/deny" and self.command == "POST":
            self.state.deny = True
            return self.reply(204)
        self.reply(404, {"error": "unknown test control"})

    def issue_token(self):
        token = "fake-az-token-" + secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.tokens.add(token)
        return token

    def token(self, tenant):
        form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
        if tenant != os.environ.get("AZ_TEST_TENANT"):
            return self.reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
            )
        if form.get("grant_type") != "client_credentials" or form.get("scope") != SCOPE:
            return self.reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "AADSTS900144: The request body must contain the "
                    "parameters 'grant_type' and 'scope'.",
                },
            )
        if form.get("client_id") != os.environ.get("AZ_TEST_CLIENT_ID"):
            return self.reply(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": "AADSTS700016: Application not found in the directory.",
                },
            )
        if "client_assertion" in form:
            # A workload identity's federated token, in place of a client secret.
            if (
                form.get("client_assertion_type")
                != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                or form["client_assertion"] != os.environ.get("AZ_TEST_FEDERATED_TOKEN")
            ):
                return self.reply(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS700213: No matching federated identity "
                        "record found for presented assertion.",
                    },
                )
        elif form.get("client_secret") != os.environ.get("AZ_TEST_CLIENT_SECRET"):
            return self.reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        self.reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": self.issue_token(),
            },
        )

    def imds(self, query):
        if self.headers.get("Metadata") != "true":
            return self.reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Required metadata header not specified",
                },
            )
        if query.get("api-version", [""])[0] != "2018-02-01" or query.get("resource", [""])[0] != RESOURCE:
            return self.reply(
                400,
                {"error": "invalid_request", "error_description": "bad api-version or resource"},
            )
        fault = self.state.next_fault()
        if fault:
            return self.reply(fault["status"], {"error": "busy", "error_description": "retry"})
        now = int(time.time())
        self.reply(
            200,
            {
                "access_token": self.issue_token(),
                "client_id": "00000000-0000-0000-0000-000000000000",
                "expires_in": "3599",
                "expires_on": str(now + 3599),
                "ext_expires_in": "3599",
                "not_before": str(now),
                "resource": RESOURCE,
                "token_type": "Bearer",
            },
        )

    def app_service(self, query):
        expected = os.environ.get("AZ_TEST_IDENTITY_HEADER")
        if not expected or self.headers.get("X-IDENTITY-HEADER") != expected:
            return self.reply(
                401,
                {"statusCode": 401, "message": "Unauthorized: missing or wrong X-IDENTITY-HEADER"},
            )
        if query.get("api-version", [""])[0] != "2019-08-01" or query.get("resource", [""])[0] != RESOURCE:
            return self.reply(400, {"statusCode": 400, "message": "bad api-version or resource"})
        self.reply(
            200,
            {
                "access_token": self.issue_token(),
                "expires_on": str(int(time.time()) + 3599),
                "resource": RESOURCE,
                "token_type": "Bearer",
                "client_id": "00000000-0000-0000-0000-000000000000",
            },
        )

    def get_secret(self, name, version, query):
        api_version = query.get("api-version", [None])[0]
        if api_version not in API_VERSIONS:
            return self.reply(
                400,
                vault_error(
                    "BadParameter",
                    f"The specified version ({api_version}) is not recognized. "
                    "Consider using the latest supported version.",
                ),
            )
        authorization = self.headers.get("Authorization", "")
        token = authorization[len("Bearer "):] if authorization.startswith("Bearer ") else None
        if token is None or token not in self.state.tokens:
            message = (
                "AKV10000: Request is missing a Bearer or PoP token."
                if token is None
                else "AKV10032: Invalid issuer."
            )
            return self.reply(
                401,
                vault_error("Unauthorized", message),
                {
                    "WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/'
                    f'{os.environ.get("AZ_TEST_TENANT", "")}", resource="{RESOURCE}"'
                },
            )
        fault = self.state.next_fault()
        if fault:
            headers = {}
            if "retry_after" in fault:
                headers["Retry-After"] = str(fault["retry_after"])
            return self.reply(
                fault["status"],
                vault_error("Throttled", "Request was not processed because too many requests "
                            "were received. Reason: VaultRequestTypeLimitReached"),
                headers,
            )
        if self.state.deny:
            return self.reply(
                403,
                vault_error(
                    "Forbidden",
                    "The user, group or application 'appid=...' does not have secrets get "
                    "permission on key vault 'test-vault'.",
                    "AccessDenied",
                ),
            )
        if not NAME.match(name):
            return self.reply(
                400,
                vault_error("BadParameter", "The request URI contains an invalid name: " + name),
            )
        with self.state.lock:
            versions = self.state.secrets.get(name.lower(), [])
            found = [v for v in versions if v["version"] == version] if version else versions[-1:]
        if not found:
            what = f"{name}/{version}" if version else name
            return self.reply(
                404,
                vault_error(
                    "SecretNotFound",
                    f"A secret with (name/id) {what} was not found in this key vault. If you "
                    "recently deleted this secret you may be able to recover it using the "
                    "correct recovery command.",
                ),
            )
        secret = found[0]
        if not secret["enabled"]:
            return self.reply(
                403,
                vault_error(
                    "Forbidden",
                    "Operation get is not allowed on a disabled secret.",
                    "SecretDisabled",
                ),
            )
        attributes = {
            "enabled": True,
            "created": secret["created"],
            "updated": secret["updated"],
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90,
        }
        for field in ("exp", "nbf"):
            if secret[field] is not None:
                attributes[field] = secret[field]
        base = f"https://test-vault.vault.azure.net/secrets/{secret['name']}"
        self.reply(
            200,
            {
                "value": secret["value"],
                "id": f"{base}/{secret['version']}",
                "attributes": attributes,
                "tags": {},
            },
        )


if __name__ == "__main__":
    serve(KeyVault, VaultState())
