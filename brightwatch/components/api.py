"""The `api` component: uvicorn serving the app until the service stops."""

from __future__ import annotations

import threading

import uvicorn

from brightwatch.api.app import create_app
from brightwatch.runtime import Runtime


def run(runtime: Runtime, stop: threading.Event) -> None:
    s = runtime.settings
    config = uvicorn.Config(
        create_app(runtime),
        host=s.http_host,
        port=s.http_port,
        log_config=None,  # our logging set-up (text or JSON, redacted)
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
    server = uvicorn.Server(config)

    def stop_server() -> None:
        stop.wait()
        server.should_exit = True

    watcher = threading.Thread(target=stop_server, name="bw-api-stop", daemon=True)
    watcher.start()
    server.run()
    if not stop.is_set() and not server.started:
        raise RuntimeError(f"HTTP server could not start on {s.http_addr}")
