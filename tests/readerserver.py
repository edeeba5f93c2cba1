"""A chat completions endpoint on 127.0.0.1 for tests (and the folding benchmark's
recorded reader), in the OpenAI-compatible shape Ollama, llama.cpp's server and vLLM
answer in: each POST's JSON body is recorded and answered by ``reply`` (the assistant's
text for the request), or by ``status``; ``refuse`` and ``delay`` make it refuse or keep
waiting on a request of its choosing, as a model's server does on one too long."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aggregator.reader_trust import CONTROLS
from aggregator.reading import request_body

PATH = "/v1/chat/completions"
#: The reports of each question a reader is checked by → whether they tell one event.
CONTROL_ANSWERS = {
    request_body("", first, second)["messages"][-1]["content"]: same
    for first, second, same in CONTROLS
}


@dataclass
class ReaderServer:
    #: The assistant's reply to a request's body.
    reply: Callable[[dict[str, Any]], str] = lambda body: '{"same_event": true, "reason": "-"}'
    #: Answer every request with this status and no completion, when not 200.
    status: int = 200
    #: The status to refuse a request's body with, before anything else (None: not
    #: refused), as an endpoint refuses a request longer than its model's context.
    refuse: Callable[[dict[str, Any]], int | None] = lambda body: None
    #: Seconds to wait before answering a request's body: a model slow over one pair.
    delay: Callable[[dict[str, Any]], float] = lambda body: 0.0
    #: Answer the questions every reader is checked by (``reader_trust.CONTROLS``)
    #: as they should be, without recording them: a test's reader is as careful as that.
    answers_controls: bool = True
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
            refused = server.refuse(body)
            control = CONTROL_ANSWERS.get(body["messages"][-1]["content"])
            if (
                server.answers_controls
                and control is not None
                and server.status == 200
                and refused is None
            ):
                self._answer(json.dumps({"same_event": control, "reason": "control"}))
                return
            server.requests.append(body)
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            time.sleep(server.delay(body))
            if refused is not None:
                message = {"message": "the request exceeds the available context size"}
                self._send(refused, json.dumps({"error": message}).encode())
            elif server.status != 200 or self.path != PATH:
                self._send(server.status if self.path == PATH else 404, b'{"error": "no"}')
            else:
                self._answer(server.reply(body))

        def _answer(self, content: str) -> None:
            message = {"role": "assistant", "content": content}
            self._send(200, json.dumps({"choices": [{"index": 0, "message": message}]}).encode())

        def _send(self, status: int, answer: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            # The client may have given up waiting (its timeout).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
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
