"""Scaffolding shared by the local contract servers: an HTTP server on 127.0.0.1 that prints its
port, logs requests, answers JSON, and exits when its parent closes stdin.

Only the Python standard library is used. The servers are for tests: they keep everything in
memory and accept obviously fake credentials that the tests generate.
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class State:
    """What the test harness can change through the `/_test/` endpoints."""

    def __init__(self):
        self.lock = threading.Lock()
        self.log = []
        # Faults for the next requests to the service's read endpoints:
        # [{"status": 429, "retry_after": "1", "count": 2}, ...]
        self.faults = []

    def next_fault(self):
        with self.lock:
            while self.faults:
                fault = self.faults[0]
                if fault.get("count", 1) <= 0:
                    self.faults.pop(0)
                    continue
                fault["count"] = fault.get("count", 1) - 1
                return fault
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set by serve()

    def log_message(self, format, *args):  # keep test output quiet
        pass

    # -- helpers ---------------------------------------------------------------------------

    def parts(self):
        split = urlsplit(self.path)
        return split.path, parse_qs(split.query, keep_blank_values=True)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def json_body(self):
        raw = self.body()
        return json.loads(raw) if raw else {}

    def reply(self, status, payload=None, headers=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def record(self, path, query):
        with self.state.lock:
            self.state.log.append(
                {
                    "method": self.command,
                    "path": path,
                    "query": {k: v[0] for k, v in query.items()},
                    "authorization": self.headers.get("Authorization") is not None,
                    "user_project": self.headers.get("x-goog-user-project"),
                }
            )

    def handle_test(self, path):
        """`/_test/log` (GET) and `/_test/faults` (POST a list): the harness's controls.

        Returns True when it answered, None when the path is someone else's."""
        if path == "/_test/log":
            with self.state.lock:
                self.reply(200, list(self.state.log))
            return True
        if path == "/_test/faults" and self.command == "POST":
            with self.state.lock:
                self.state.faults.extend(self.json_body())
            self.reply(204)
            return True
        return None


def serve(handler_class, state):
    handler_class.state = state
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)

    def watch_parent():
        # The test holds our stdin open; when it exits (even killed), stdin closes: stop.
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()
