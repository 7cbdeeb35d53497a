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

Test controls (not part of the service): POST /_test/secrets/{id} adds a version ({value,
state}); POST /_test/faults (a fault may set "corrupt": true to send a wrong dataCrc32c);
GET /_test/log; POST /_test/deny. Configuration from the environment: GCP_TEST_PROJECT,
GCP_TEST_PROJECT_NUMBER, GCP_TEST_TOKEN (a token accepted besides those the metadata server
issues).
"""

import base64
import os
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
        if path == "/_test/deny" and self.command == "POST":
            self.state.deny = True
            return self.reply(204)
        self.reply(404, {"error": "unknown test control"})

    def metadata_token(self):
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(403, None)
        token = "fake-gcp-token-" + secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.tokens.add(token)
        self.reply(
            200,
            {"access_token": token, "expires_in": 3599, "token_type": "Bearer"},
            {"Metadata-Flavor": "Google"},
        )

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
                enabled = [i for i, v in enumerate(versions) if v["state"] == "ENABLED"]
                index = enabled[-1] if enabled else (len(versions) - 1 if versions else None)
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
