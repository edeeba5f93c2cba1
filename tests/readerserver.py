"""A chat completions endpoint on 127.0.0.1 for tests (and the folding benchmark's
recorded reader), in the OpenAI-compatible shape Ollama, llama.cpp's server and vLLM
answer in: each POST's JSON body is recorded and answered by ``reply`` (the assistant's
text for the request), or by ``status``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/v1/chat/completions"


@dataclass
class ReaderServer:
    #: The assistant's reply to a request's body.
    reply: Callable[[dict[str, Any]], str] = lambda body: '{"same_event": true, "reason": "-"}'
    #: Answer every request with this status and no completion, when not 200.
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def user_texts(self) -> list[str]:
        """The reports each request carried (its user message)."""
        return [body["messages"][-1]["content"] for body in self.requests]


@contextmanager
def running_reader(server: ReaderServer, port: int = 0) -> Iterator[ReaderServer]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server.requests.append(body)
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            if server.status != 200 or self.path != PATH:
                answer = b'{"error": "no"}'
                self.send_response(server.status if self.path == PATH else 404)
            else:
                message = {"role": "assistant", "content": server.reply(body)}
                answer = json.dumps({"choices": [{"index": 0, "message": message}]}).encode()
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}{PATH}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
