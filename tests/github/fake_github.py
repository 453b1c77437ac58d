"""Test helper: a tiny GitHub REST API on 127.0.0.1 (ephemeral port) answering the calls the bot makes."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeGitHub:
    """One repository with pull requests; records comments, statuses and every request made."""

    def __init__(self, repo: str, pulls: dict[int, str]) -> None:
        self.repo = repo
        self.pulls = pulls  # PR number -> head SHA
        self.comments: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "FakeGitHub":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_comment(self, issue: int, body: str, login: str) -> dict[str, Any]:
        comment_id = 1000 + len(self.comments)
        comment = {"id": comment_id, "body": body, "user": {"login": login, "id": 1, "type": "User"},
                   "url": f"{self.base_url}/repos/{self.repo}/issues/comments/{comment_id}",
                   "html_url": f"https://github.example/{self.repo}/pull/{issue}#issuecomment-{comment_id}",
                   "issue": issue}
        self.comments.append(comment)
        return comment

    def _route(self, method: str, path: str, payload: Any) -> tuple[int, Any]:
        base = f"/repos/{self.repo}"
        api = self.base_url + base
        if method == "GET" and path == base:
            owner, name = self.repo.split("/")
            return 200, {"id": 1, "name": name, "full_name": self.repo, "owner": {"login": owner}, "url": api}
        if match := re.fullmatch(rf"{base}/pulls/(\d+)", path):
            number = int(match.group(1))
            if number not in self.pulls:
                return 404, {"message": "Not Found"}
            return 200, {"number": number, "url": f"{api}/pulls/{number}", "state": "open",
                         "head": {"sha": self.pulls[number], "ref": "student"}}
        if method == "GET" and (match := re.fullmatch(rf"{base}/issues/(\d+)", path)):
            number = int(match.group(1))
            return 200, {"number": number, "url": f"{api}/issues/{number}", "state": "open",
                         "comments_url": f"{api}/issues/{number}/comments"}
        if match := re.fullmatch(rf"{base}/issues/(\d+)/comments", path):
            issue = int(match.group(1))
            if method == "GET":
                return 200, [c for c in self.comments if c["issue"] == issue]
            return 201, self.add_comment(issue, payload["body"], "github-actions[bot]")
        if method == "PATCH" and (match := re.fullmatch(rf"{base}/issues/comments/(\d+)", path)):
            comment = next(c for c in self.comments if c["id"] == int(match.group(1)))
            comment["body"] = payload["body"]
            return 200, comment
        if method == "GET" and (match := re.fullmatch(rf"{base}/commits/([0-9a-f]{{40}})", path)):
            return 200, {"sha": match.group(1), "url": f"{api}/commits/{match.group(1)}"}
        if method == "POST" and (match := re.fullmatch(rf"{base}/statuses/([0-9a-f]{{40}})", path)):
            status = {"id": len(self.statuses) + 1, "sha": match.group(1), **payload}
            self.statuses.append(status)
            return 201, status
        return 404, {"message": f"fake GitHub does not know {method} {path}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                path = self.path.split("?", 1)[0]
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"null")
                fake.requests.append((self.command, path))
                status, body = fake._route(self.command, path, payload)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _serve

            def log_message(self, *args: object) -> None:
                pass

        return Handler
