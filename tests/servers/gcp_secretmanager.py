"""A local Google Cloud Secret Manager (the access path) and Compute Engine metadata server that
follow the published REST contract, for keyward's tests. Not an emulator of the whole service.

Contract followed (cloud.google.com, Secret Manager REST v1 and the metadata server):
- GET /v1/projects/{project}/secrets/{secret}/versions/{version}:access with
  `Authorization: Bearer <token>`, version a number or `latest` -> 200 AccessSecretVersionResponse
  {name: "projects/<number>/secrets/<id>/versions/<n>", payload: {data: base64,
  dataCrc32c: int64 as a string}}; errors are google.rpc.Status {"error": {code, message,
  status}}: 404 NOT_FOUND, a disabled or destroyed version -> 400 FAILED_PRECONDITION
  ("... is in DISABLED state."), 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 429
  RESOURCE_EXHAUSTED.
- GET /v1/projects/{project}/secrets/{secret}/versions/{n} -> SecretVersion {name, createTime
  (RFC 3339), state}.
- GET /computeMetadata/v1/instance/service-accounts/default/token with `Metadata-Flavor: Google`
  -> {access_token, expires_in, token_type}, answered with `Metadata-Flavor: Google`.
- POST /token (Google's OAuth 2.0 token endpoint, form encoded): the JWT bearer grant of a
  service account (RFC 7523: an RS256 JWT with iss, scope, aud = this URL, iat, exp at most an
  hour later; the signature is verified with the account's public key) and the refresh-token
  grant of user credentials -> {access_token, expires_in, token_type}; a bad assertion ->
  400 {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, a bad refresh
  token -> 400 invalid_grant, a bad client -> 401 invalid_client.

Test controls (not part of the service): POST /_test/secrets/{id} adds a version ({value,
state}); POST /_test/faults (a fault may set "corrupt": true to send a wrong dataCrc32c); GET
/_test/log; POST /_test/revoke invalidates the tokens issued so far; POST /_test/deny.
Configuration from the environment: GCP_TEST_PROJECT, GCP_TEST_PROJECT_NUMBER, GCP_TEST_TOKEN (a
token accepted besides those the server issues), GCP_TEST_SA_EMAIL and GCP_TEST_SA_PUBLIC_KEY
(the service account and its RSA public key, PKCS#1 DER in hex), GCP_TEST_CLIENT_ID,
GCP_TEST_CLIENT_SECRET, GCP_TEST_REFRESH_TOKEN.
"""

import base64
import hashlib
import hmac
import json
import os
import time
from urllib.parse import parse_qs
import re
import secrets
import threading
from datetime import datetime, timezone

from contract import Handler, State, serve


def _table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


TABLE = _table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# DER of the DigestInfo prefix for SHA-256 (RFC 8017, section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def rsa_pkcs1_sha256_verify(message, signature, n, e):
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    em = pow(int.from_bytes(signature, "big"), e, n).to_bytes(k, "big")
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (k - 3 - len(t)) + b"\x00" + t
    return hmac.compare_digest(em, expected)


def rsa_public_key(der):
    """(n, e) from a PKCS#1 RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }."""

    def read(data, pos):
        length, pos = data[pos + 1], pos + 2
        if length & 0x80:
            count = length & 0x7F
            length, pos = int.from_bytes(data[pos:pos + count], "big"), pos + count
        return data[pos:pos + length], pos + length

    sequence, _ = read(der, 0)
    n, pos = read(sequence, 0)
    e, _ = read(sequence, pos)
    return int.from_bytes(n, "big"), int.from_bytes(e, "big")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ManagerState(State):
    def __init__(self):
        super().__init__()
        self.secrets = {}  # id -> [versions], version n at index n - 1
        self.tokens = {os.environ.get("GCP_TEST_TOKEN", "")} - {""}
        self.deny = False


def status(code, name, message):
    return {"error": {"code": code, "message": message, "status": name}}


class SecretManager(Handler):
    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def route(self):
        path, query = self.parts()
        self.record(path, query)
        if path.startswith("/_test/"):
            if self.handle_test(path) is None:
                self.test_controls(path)
            return
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            return self.metadata_token()
        if path == "/token" and self.command == "POST":
            return self.oauth_token()
        match = re.fullmatch(r"/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/:]+)(:access)?", path)
        if match and self.command == "GET":
            return self.version(*match.groups())
        self.reply(404, status(404, "NOT_FOUND", "The requested URL was not found."))

    def test_controls(self, path):
        match = re.fullmatch(r"/_test/secrets/([^/]+)", path)
        if match and self.command == "POST":
            body = self.json_body()
            with self.state.lock:
                versions = self.state.secrets.setdefault(match.group(1), [])
                versions.append(
                    {
                        "data": body["value"].encode(),
                        "state": body.get("state", "ENABLED"),
                        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    }
                )
                return self.reply(200, {"version": len(versions)})
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
        token = "fake-gcp-token-" + secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.tokens.add(token)
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def oauth_token(self):
        form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            problem = self.check_assertion(form.get("assertion", ""))
            if problem:
                return self.reply(400, {"error": "invalid_grant", "error_description": problem})
            return self.reply(200, self.issue_token())
        if grant == "refresh_token":
            if (form.get("client_id"), form.get("client_secret")) != (
                os.environ.get("GCP_TEST_CLIENT_ID"),
                os.environ.get("GCP_TEST_CLIENT_SECRET"),
            ):
                return self.reply(
                    401, {"error": "invalid_client", "error_description": "Unauthorized"}
                )
            if form.get("refresh_token") != os.environ.get("GCP_TEST_REFRESH_TOKEN"):
                return self.reply(
                    400, {"error": "invalid_grant", "error_description": "Bad Request"}
                )
            return self.reply(200, self.issue_token())
        self.reply(
            400,
            {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + str(grant)},
        )

    def check_assertion(self, assertion):
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(b64url_decode(header_b64))
            claims = json.loads(b64url_decode(claims_b64))
            signature = b64url_decode(signature_b64)
        except ValueError:
            return "Invalid JWT: malformed."
        if header.get("alg") != "RS256":
            return "Invalid JWT: unsupported algorithm."
        public = os.environ.get("GCP_TEST_SA_PUBLIC_KEY", "")
        message = f"{header_b64}.{claims_b64}".encode()
        if not public or not rsa_pkcs1_sha256_verify(
            message, signature, *rsa_public_key(bytes.fromhex(public))
        ):
            return "Invalid JWT Signature."
        if claims.get("iss") != os.environ.get("GCP_TEST_SA_EMAIL"):
            return "Invalid JWT: unknown issuer."
        if claims.get("aud") != f"http://{self.headers.get('Host')}/token":
            return "Invalid JWT: audience is not this token endpoint."
        if "https://www.googleapis.com/auth/cloud-platform" not in str(claims.get("scope", "")).split():
            return "Invalid JWT: no scope."
        now = int(time.time())
        iat, exp = claims.get("iat", 0), claims.get("exp", 0)
        if abs(iat - now) > 300 or not 0 < exp - iat <= 3600:
            return ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                    "reasonable timeframe. Check your iat and exp values in the JWT claim.")
        return None

    def metadata_token(self):
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(403, None)
        self.reply(200, self.issue_token(), {"Metadata-Flavor": "Google"})

    def version(self, project, secret_id, version, access):
        authorization = self.headers.get("Authorization", "")
        token = authorization[len("Bearer "):] if authorization.startswith("Bearer ") else None
        if token is None or token not in self.state.tokens:
            return self.reply(
                401,
                status(
                    401,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.",
                ),
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        resource = f"projects/{project}/secrets/{secret_id}"
        fault = self.state.next_fault() if access else None
        if fault and not fault.get("corrupt"):
            headers = {}
            if "retry_after" in fault:
                headers["Retry-After"] = str(fault["retry_after"])
            return self.reply(
                fault["status"],
                status(
                    fault["status"],
                    "RESOURCE_EXHAUSTED" if fault["status"] == 429 else "UNAVAILABLE",
                    "Quota exceeded for quota metric 'Access requests' and limit 'Access "
                    "requests per minute'.",
                ),
                headers,
            )
        number = os.environ.get("GCP_TEST_PROJECT_NUMBER", "0")
        if self.state.deny or project not in (os.environ.get("GCP_TEST_PROJECT"), number):
            return self.reply(
                403,
                status(
                    403,
                    "PERMISSION_DENIED",
                    f"Permission 'secretmanager.versions.access' denied for resource "
                    f"'{resource}/versions/{version}' (or it may not exist).",
                ),
            )
        with self.state.lock:
            versions = self.state.secrets.get(secret_id, [])
            if version == "latest":
                # The newest version whatever its state: a disabled or destroyed newest version
                # fails the access, older enabled ones are not used.
                index = len(versions) - 1 if versions else None
            elif version.isdigit() and 1 <= int(version) <= len(versions):
                index = int(version) - 1
            else:
                index = None
            found = versions[index] if index is not None else None
        if found is None:
            what = f"{resource}/versions/{version}" if versions else resource
            message = (
                f"Secret Version [{what}] not found."
                if versions
                else f"Secret [{resource}] not found or has no versions."
            )
            return self.reply(404, status(404, "NOT_FOUND", message))
        name = f"projects/{number}/secrets/{secret_id}/versions/{index + 1}"
        if not access:
            return self.reply(
                200,
                {
                    "name": name,
                    "createTime": found["created"],
                    "state": found["state"],
                    "etag": '"' + secrets.token_hex(6) + '"',
                },
            )
        if found["state"] != "ENABLED":
            return self.reply(
                400,
                status(
                    400,
                    "FAILED_PRECONDITION",
                    f"Secret Version [{name}] is in {found['state']} state.",
                ),
            )
        checksum = crc32c(found["data"])
        if fault and fault.get("corrupt"):
            checksum ^= 1
        self.reply(
            200,
            {
                "name": name,
                "payload": {
                    "data": base64.b64encode(found["data"]).decode(),
                    "dataCrc32c": str(checksum),
                },
            },
        )


if __name__ == "__main__":
    serve(SecretManager, ManagerState())
