"""A webhook receiver for the tests: a real HTTP server on 127.0.0.1 in a thread, checking signatures with the
helper a receiver would use (``tongban.integrations.signing.verify``)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tongban.integrations import signing


class Receiver:
    def __init__(self, secret: str = ""):
        self.secret = secret
        self.status = 204
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                verdict = "no secret"
                if receiver.secret:
                    try:
                        signing.verify(receiver.secret, body, self.headers.get(signing.HEADER))
                        verdict = "valid"
                    except signing.SignatureError as exc:
                        verdict = str(exc)
                receiver.requests.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "json": json.loads(body),
                        "signature": verdict,
                    }
                )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
