"""HTTP to the REST API: JSON in and out, the bearer token, a timeout on every call, and
bounded retries with exponential backoff and jitter on connection loss and 503 only (a 4xx is
the caller's mistake and is never sent again).

Each thread keeps its own keep-alive connection (``http.client`` connections are not shared
between threads), so ``tune()``'s workers do not pay a TCP handshake per call.
"""
from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from .errors import SibylError, Unavailable, error_from_response

USER_AGENT = "sibyl-client-python/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts in all (the first included) and the backoff: ``base * 2**n`` seconds, capped,
    each sleep drawn uniformly from [0, that] ("full jitter")."""

    attempts: int = 8
    base_seconds: float = 0.1
    max_seconds: float = 4.0

    def delay(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        return rand() * min(self.max_seconds, self.base_seconds * (2 ** retry))


# What a lost or refused connection looks like from http.client.
_CONNECTION_ERRORS: Tuple[type, ...] = (ConnectionError, http.client.HTTPException, socket.timeout, TimeoutError, OSError)


class Transport:
    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 30.0,
                 retry: RetryPolicy = RetryPolicy(), ssl_context: Optional[ssl.SSLContext] = None) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"url must be http(s)://host[:port] (got {url!r})")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.url = url.rstrip("/")
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port or (443 if self._https else 80)
        self._prefix = parsed.path.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retry = retry
        self._ssl = ssl_context
        self._local = threading.local()
        self._open: "set[http.client.HTTPConnection]" = set()
        self._open_lock = threading.Lock()

    # ── connections ──────────────────────────────────────────────────────

    def _connection(self) -> http.client.HTTPConnection:
        conn: Optional[http.client.HTTPConnection] = getattr(self._local, "conn", None)
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                                   context=self._ssl or ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
            with self._open_lock:
                self._open.add(conn)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._open_lock:
                self._open.discard(conn)
            conn.close()

    def close(self) -> None:
        """Closes every thread's connection; a later call opens a new one."""
        with self._open_lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            conn.close()
        self._local = threading.local()

    # ── requests ─────────────────────────────────────────────────────────

    def request(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None,
                query: Optional[Mapping[str, Any]] = None, *, timeout: Optional[float] = None) -> Any:
        """The decoded JSON answer (None for 204), or the SibylError for the refusal."""
        target = self._prefix + path
        pairs = {k: str(v) for k, v in (query or {}).items() if v is not None}
        if pairs:
            target += "?" + urllib.parse.urlencode(pairs)
        payload = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        headers: Dict[str, str] = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        attempt = 0
        while True:
            attempt += 1
            try:
                status, answer = self._send(method, target, payload, headers, timeout)
            except _CONNECTION_ERRORS as err:
                self._drop_connection()
                if attempt >= self.retry.attempts:
                    raise Unavailable(f"{method} {path}: no answer from {self.url} after {attempt} attempts ({err!r})",
                                      attempts=attempt) from err
            else:
                if status < 300:
                    return answer
                failure = error_from_response(status, answer, attempt)
                if status != 503 or attempt >= self.retry.attempts:
                    raise failure
            time.sleep(self.retry.delay(attempt - 1))

    def _send(self, method: str, target: str, payload: Optional[bytes], headers: Dict[str, str],
              timeout: Optional[float]) -> Tuple[int, Any]:
        conn = self._connection()
        conn.timeout = timeout or self.timeout
        if conn.sock is not None:
            conn.sock.settimeout(conn.timeout)
        conn.request(method, target, body=payload, headers=headers)
        res = conn.getresponse()
        raw = res.read()
        if res.getheader("connection", "").lower() == "close":
            self._drop_connection()
        text = raw.decode("utf-8", errors="replace")
        try:
            decoded: Any = json.loads(text) if text else None
        except ValueError:
            decoded = text
        return res.status, decoded


__all__ = ["RetryPolicy", "Transport", "SibylError"]
