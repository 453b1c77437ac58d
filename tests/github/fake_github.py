"""Test helper: a tiny GitHub REST API on 127.0.0.1 (ephemeral port) answering the calls the bot makes.

It serves one repository: pull requests (with their changed files), issue comments, commit statuses, workflow
runs with their jobs and artifacts (an artifact download answers 302 to a "storage" URL on the same server, like
GitHub's signed blob URLs), collaborator roles, file contents (blob SHAs) and git trees at a ref, plus any recorded
response (`answers`: path -> (status, body), e.g. the settings endpoints), and records every request with the
Authorization header it carried.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class FakeGitHub:
    """One repository with pull requests and workflow runs; records comments, statuses and every request made.

    `pulls` maps a PR number to its head SHA, or to a dict with any of: sha, ref, repo (head repository full name),
    user, association, base_ref, base_sha, state.
    """

    def __init__(self, repo: str, pulls: dict[int, Any], default_branch: str = "main") -> None:
        self.repo = repo
        self.default_branch = default_branch
        self.pulls = {n: ({"sha": p} if isinstance(p, str) else dict(p)) for n, p in pulls.items()}
        self.runs: dict[int, dict[str, Any]] = {}
        self.artifacts: dict[int, list[dict[str, Any]]] = {}  # run id -> [{id, name, data, expired}]
        self.jobs: dict[int, list[dict[str, Any]]] = {}  # run id -> [{name, conclusion, steps}]
        self.roles: dict[str, str] = {}  # login -> role_name (read, triage, write, maintain, admin)
        self.blobs: dict[tuple[str, str], str] = {}  # (ref, path) -> git blob SHA
        self.trees: dict[str, list[dict[str, Any]]] = {}  # tree or commit SHA -> [{path, type, sha, size}]
        self.answers: dict[str, tuple[int, Any]] = {}  # recorded responses by path
        self.comments: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.authorization: list[tuple[str, str | None]] = []  # (path, Authorization header)
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

    def add_run(self, run: dict[str, Any], artifacts: dict[str, bytes] | None = None) -> None:
        """A workflow run as GitHub records it (e.g. a workflow_run event's `workflow_run`), with artifact zips."""
        self.runs[int(run["id"])] = run
        self.artifacts[int(run["id"])] = [
            {"id": 5000 + 10 * len(self.artifacts) + i, "name": name, "data": data, "expired": False}
            for i, (name, data) in enumerate((artifacts or {}).items())]

    def _pull(self, number: int) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{self.repo}"
        pull = self.pulls[number]
        head_repo = pull.get("repo", self.repo)
        return {"number": number, "url": f"{api}/pulls/{number}", "state": pull.get("state", "open"),
                "user": {"login": pull.get("user", "student")},
                "author_association": pull.get("association", "CONTRIBUTOR"),
                "head": {"sha": pull["sha"], "ref": pull.get("ref", "student"),
                         "repo": {"full_name": head_repo, "owner": {"login": head_repo.split("/")[0]}}},
                "base": {"sha": pull.get("base_sha", "0" * 40), "ref": pull.get("base_ref", self.default_branch)}}

    def _run(self, run_id: int) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{self.repo}"
        return {**self.runs[run_id], "url": f"{api}/actions/runs/{run_id}",
                "artifacts_url": f"{api}/actions/runs/{run_id}/artifacts"}

    def _artifact(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"id": item["id"], "name": item["name"], "expired": item["expired"], "size_in_bytes": len(item["data"]),
                "archive_download_url": f"{self.base_url}/repos/{self.repo}/actions/artifacts/{item['id']}/zip"}

    def _extra(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any] | None:
        """The read-only endpoints beyond comments and runs (GET only)."""
        base = f"/repos/{self.repo}"
        api = self.base_url + base
        if path in self.answers:
            return self.answers[path]
        if match := re.fullmatch(rf"{base}/collaborators/([^/]+)/permission", path):
            role = self.roles.get(match.group(1))
            if role is None:
                return 404, {"message": "Not a collaborator"}
            legacy = {"maintain": "write", "triage": "read"}.get(role, role)
            return 200, {"permission": legacy, "role_name": role, "user": {"login": match.group(1)}}
        if match := re.fullmatch(rf"{base}/contents/(.+)", path):
            ref = query.get("ref", [self.default_branch])[0]
            blob = self.blobs.get((ref, match.group(1)))
            if blob is None:
                return 404, {"message": "Not Found"}
            return 200, {"type": "file", "name": match.group(1).rsplit("/", 1)[-1], "path": match.group(1),
                         "sha": blob, "size": 1, "encoding": "base64", "content": "",
                         "url": f"{api}/contents/{match.group(1)}?ref={ref}"}
        if match := re.fullmatch(rf"{base}/actions/runs/(\d+)/jobs", path):
            jobs = self.jobs.get(int(match.group(1)), [])
            return 200, {"total_count": len(jobs), "jobs": jobs}
        if match := re.fullmatch(rf"{base}/pulls/(\d+)/files", path):
            files = self.pulls.get(int(match.group(1)), {}).get("files", [])
            return 200, [{"filename": name, "status": "modified", "sha": "0" * 40} for name in files]
        if match := re.fullmatch(rf"{base}/git/commits/([0-9a-f]{{40}})", path):
            return 200, {"sha": match.group(1), "url": f"{api}/git/commits/{match.group(1)}",
                         "tree": {"sha": match.group(1), "url": f"{api}/git/trees/{match.group(1)}"}}
        if match := re.fullmatch(rf"{base}/git/trees/([0-9a-f]{{40}})", path):
            entries = self.trees.get(match.group(1))
            if entries is None:
                return 404, {"message": "Not Found"}
            return 200, {"sha": match.group(1), "url": f"{api}/git/trees/{match.group(1)}", "truncated": False,
                         "tree": entries}
        return None

    def _route(self, method: str, path: str, query: dict[str, list[str]], payload: Any) -> tuple[int, Any]:
        base = f"/repos/{self.repo}"
        api = self.base_url + base
        if method == "GET" and (answer := self._extra(path, query)) is not None:
            return answer
        if method == "GET" and path == base:
            owner, name = self.repo.split("/")
            return 200, {"id": 1, "name": name, "full_name": self.repo, "owner": {"login": owner}, "url": api,
                         "default_branch": self.default_branch}
        if method == "GET" and path == f"{base}/pulls":
            state, head = query.get("state", ["open"])[0], query.get("head", [None])[0]
            listed = [self._pull(n) for n in sorted(self.pulls)]
            return 200, [p for p in listed if (state == "all" or p["state"] == state)
                         and (head is None or f"{p['head']['repo']['owner']['login']}:{p['head']['ref']}" == head)]
        if match := re.fullmatch(rf"{base}/pulls/(\d+)", path):
            number = int(match.group(1))
            if number not in self.pulls:
                return 404, {"message": "Not Found"}
            return 200, self._pull(number)
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
        if method == "GET" and (match := re.fullmatch(rf"{base}/actions/runs/(\d+)", path)):
            run_id = int(match.group(1))
            return (200, self._run(run_id)) if run_id in self.runs else (404, {"message": "Not Found"})
        if method == "GET" and (match := re.fullmatch(rf"{base}/actions/runs/(\d+)/artifacts", path)):
            items = [self._artifact(a) for a in self.artifacts.get(int(match.group(1)), [])]
            return 200, {"total_count": len(items), "artifacts": items}
        if method == "GET" and (match := re.fullmatch(rf"{base}/actions/artifacts/(\d+)/zip", path)):
            return 302, {"Location": f"{self.base_url}/storage/{match.group(1)}"}
        return 404, {"message": f"fake GitHub does not know {method} {path}"}

    def _blob(self, artifact_id: int) -> bytes | None:
        for items in self.artifacts.values():
            for item in items:
                if item["id"] == artifact_id:
                    return item["data"]
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] = {}) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _serve(self) -> None:
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"null")
                fake.requests.append((self.command, path))
                fake.authorization.append((path, self.headers.get("Authorization")))
                if match := re.fullmatch(r"/storage/(\d+)", path):
                    blob = fake._blob(int(match.group(1)))
                    self._send(200 if blob is not None else 404, blob or b"", "application/zip")
                    return
                status, body = fake._route(self.command, path, parse_qs(query), payload)
                if status == 302:
                    self._send(302, b"", "text/plain", {"Location": body["Location"]})
                    return
                self._send(status, json.dumps(body).encode(), "application/json")

            do_GET = do_POST = do_PATCH = _serve

            def log_message(self, *args: object) -> None:
                pass

        return Handler
