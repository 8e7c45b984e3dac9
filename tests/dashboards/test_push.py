"""`brightwatch dashboards push` (plain httpx calls) against a local stand-in for Grafana's
HTTP API (a real Grafana cannot run here): it records every request and answers as Grafana
does, so the test checks what would be sent."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from brightwatch.dashboards.boards import ALL
from brightwatch.dashboards.render import uid_of

REPO = Path(__file__).resolve().parents[2]


class FakeGrafana(ThreadingHTTPServer):
    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self.folders: set[str] = set()
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(BaseHTTPRequestHandler):
    server: FakeGrafana

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        self.server.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "body": body,
            }
        )
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            return self._reply(401, {"message": "invalid API key"})
        if self.command == "GET" and self.path.startswith("/api/folders/"):
            uid = self.path.rsplit("/", 1)[1]
            if uid in self.server.folders:
                return self._reply(200, {"uid": uid, "title": uid})
            return self._reply(404, {"message": "folder not found"})
        if self.command == "POST" and self.path == "/api/folders":
            self.server.folders.add(body["uid"])
            return self._reply(200, {"uid": body["uid"], "title": body["title"]})
        if self.command == "POST" and self.path == "/api/dashboards/db":
            uid = body["dashboard"]["uid"]
            return self._reply(200, {"status": "success", "uid": uid, "url": f"/d/{uid}"})
        return self._reply(404, {"message": "not found"})

    do_GET = do_POST = _handle


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafana("glsa_test_token")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _push(url: str, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brightwatch", "dashboards", "push", "--url", url, "--token", token]
        + list(extra),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_push_creates_the_folder_and_uploads_every_dashboard(grafana: FakeGrafana) -> None:
    url = f"http://127.0.0.1:{grafana.server_address[1]}"
    done = _push(url, grafana.token)
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(r["auth"] == "Bearer glsa_test_token" for r in grafana.requests)
    posts = [r for r in grafana.requests if r["path"] == "/api/dashboards/db"]
    # both language sets, each into its own folder, times in BW_TIMEZONE (Asia/Shanghai)
    assert [p["body"]["dashboard"]["uid"] for p in posts] == [
        uid_of(d, locale) for locale in ("zh-CN", "en") for d in ALL
    ]
    folders = {"zh-CN": "brightwatch-zh", "en": "brightwatch-en"}
    for p in posts:
        locale = "zh-CN" if p["body"]["dashboard"]["uid"].endswith("-zh") else "en"
        assert p["body"]["overwrite"] is True and p["body"]["folderUid"] == folders[locale]
        assert p["body"]["dashboard"]["panels"]
        assert p["body"]["dashboard"]["timezone"] == "Asia/Shanghai"
    created = [r["body"] for r in grafana.requests if r["path"] == "/api/folders"]
    assert [(c["uid"], c["title"]) for c in created] == [
        ("brightwatch-zh", "明厨亮灶与电梯 (中文)"),
        ("brightwatch-en", "English"),
    ]
    assert "created folder brightwatch-zh" in done.stdout
    # a second push finds the folder and only updates
    grafana.requests.clear()
    assert _push(url, grafana.token).returncode == 0
    assert not any(r["path"] == "/api/folders" for r in grafana.requests)


def test_push_takes_another_zone_and_refuses_an_unknown_one(grafana: FakeGrafana) -> None:
    url = f"http://127.0.0.1:{grafana.server_address[1]}"
    done = _push(url, grafana.token, "--timezone", "Asia/Urumqi")
    assert done.returncode == 0, done.stdout + done.stderr
    posts = [r for r in grafana.requests if r["path"] == "/api/dashboards/db"]
    assert {p["body"]["dashboard"]["timezone"] for p in posts} == {"Asia/Urumqi"}
    grafana.requests.clear()
    done = _push(url, grafana.token, "--timezone", "Mars/Olympus")
    assert done.returncode == 2 and "unknown time zone" in done.stderr
    assert not grafana.requests


def test_push_reports_a_refused_token(grafana: FakeGrafana) -> None:
    done = _push(f"http://127.0.0.1:{grafana.server_address[1]}", "wrong")
    assert done.returncode == 1 and "401" in done.stderr


def test_push_reports_an_unreachable_grafana() -> None:
    from brightwatch.embedded import free_port

    done = _push(f"http://127.0.0.1:{free_port()}", "t")
    assert done.returncode == 1 and "cannot reach Grafana" in done.stderr
