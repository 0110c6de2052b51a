"""The exception types for the server's refusals, with its status, field and reason; 4xx are
never retried, 503 and lost connections are, a bounded number of times."""
from __future__ import annotations

import http.server
import socket
import threading
import time
import unittest
from typing import List

from tests.support import ServerTestCase, experiment
from sibyl_client import (AlreadyExists, Client, Conflict, FailedPrecondition, InvalidArgument, NotFound, RetryPolicy,
                          SibylError, Unauthenticated, Unavailable)


class Refusals(ServerTestCase):
    def test_400_names_the_field_and_the_reason(self) -> None:
        doc = experiment("bad-range")
        doc["spec"]["parameters"][0]["feasibleSpace"] = {"min": "0.5", "max": "0.1"}
        with self.assertRaises(InvalidArgument) as caught:
            self.client.create_study(doc, runtime="external")
        err = caught.exception
        self.assertEqual((err.status, err.code, err.attempts), (400, "INVALID_ARGUMENT", 1))
        # The request body field `spec`, then the path inside the Experiment.
        self.assertEqual(err.field, "spec.spec.parameters[0].feasibleSpace.min")
        self.assertIn("must be below max", err.reason)
        self.assertIsInstance(err, SibylError)

    def test_400_from_the_request_schema(self) -> None:
        self.client.create_study(experiment("schema"), runtime="external")
        with self.assertRaises(InvalidArgument) as caught:
            self.client.suggest("schema", "me", count=0)
        self.assertEqual(caught.exception.field, "count")
        study = self.client.create_study(experiment("metric-name"), runtime="external")
        trial = study.ask()
        assert trial is not None
        with self.assertRaises(InvalidArgument) as bad_metric:
            trial.report("nope", 1.0)
        self.assertEqual(bad_metric.exception.field, "observations[0].metric")

    def test_404(self) -> None:
        with self.assertRaises(NotFound) as caught:
            self.client.get_study("no-such-study")
        self.assertEqual((caught.exception.status, caught.exception.code), (404, "NOT_FOUND"))
        with self.assertRaises(NotFound):
            self.client.get_trial("no-such-trial")

    def test_409_already_exists_and_failed_precondition(self) -> None:
        self.client.create_study(experiment("taken"), runtime="external")
        with self.assertRaises(AlreadyExists) as caught:
            self.client.create_study(experiment("taken", max_trials=9), runtime="external")
        err = caught.exception
        self.assertEqual((err.status, err.code, err.field), (409, "ALREADY_EXISTS", "metadata.name"))
        self.assertIsInstance(err, Conflict)
        study = self.client.get_study("taken")
        trial = study.ask()
        assert trial is not None
        study.tell(trial, {"loss": 1.0})
        with self.assertRaises(FailedPrecondition) as ended:
            study.tell(trial, {"loss": 0.5})
        self.assertEqual((ended.exception.status, ended.exception.attempts), (409, 1))
        self.assertIsInstance(ended.exception, Conflict)


class Unauthenticated401(ServerTestCase):
    token = "s3cret-token"

    def test_401_without_or_with_a_wrong_token(self) -> None:
        self.client.create_study(experiment("guarded"), runtime="external")
        for token in (None, "wrong"):
            with Client(self.server.url, token=token) as anonymous:
                with self.assertRaises(Unauthenticated) as caught:
                    anonymous.get_study("guarded")
                err = caught.exception
                self.assertEqual((err.status, err.code, err.field, err.attempts), (401, "UNAUTHENTICATED", "authorization", 1))


class _Flaky(http.server.BaseHTTPRequestHandler):
    """A stand-in for an overloaded server: 503 (shaped) for the first `failures` calls, then 200."""

    calls: List[str] = []
    failures = 2

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).calls.append(self.path)
        if self.path.startswith("/api/v1/studies/nope"):
            self._send(404, b'{"error": {"code": "NOT_FOUND", "message": "study \\"nope\\" not found", "field": "name"}}')
        elif len(type(self).calls) <= type(self).failures:
            self._send(503, b'{"error": {"code": "UNAVAILABLE", "message": "starting", "field": null}}')
        else:
            self._send(200, b'{"name": "s", "state": "RUNNING"}')

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Retries(unittest.TestCase):
    def setUp(self) -> None:
        _Flaky.calls = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.addCleanup(self.httpd.server_close)
        self.addCleanup(self.httpd.shutdown)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def test_503_is_retried_with_backoff_until_it_answers(self) -> None:
        with Client(self.url, retry=RetryPolicy(attempts=5, base_seconds=0.01)) as client:
            self.assertEqual(client.get_study("s").state, "RUNNING")
        self.assertEqual(len(_Flaky.calls), 3)

    def test_503_gives_up_after_the_attempts(self) -> None:
        _Flaky.failures = 100
        try:
            with Client(self.url, retry=RetryPolicy(attempts=3, base_seconds=0.01)) as client:
                with self.assertRaises(Unavailable) as caught:
                    client.get_study("s")
        finally:
            _Flaky.failures = 2
        self.assertEqual((caught.exception.status, caught.exception.attempts, len(_Flaky.calls)), (503, 3, 3))

    def test_4xx_is_never_retried(self) -> None:
        with Client(self.url, retry=RetryPolicy(attempts=5, base_seconds=0.01)) as client:
            with self.assertRaises(NotFound):
                client.get_study("nope")
        self.assertEqual(len(_Flaky.calls), 1)

    def test_no_server_is_unavailable_after_bounded_retries(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed again: nothing listens there
        started = time.monotonic()
        with Client(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=4, base_seconds=0.05, max_seconds=0.1)) as client:
            with self.assertRaises(Unavailable) as caught:
                client.get_study("s")
        self.assertEqual((caught.exception.status, caught.exception.attempts), (None, 4))
        self.assertLess(time.monotonic() - started, 5)

    def test_every_call_has_a_timeout(self) -> None:
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)  # accepts connections, never answers
            url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            started = time.monotonic()
            with Client(url, timeout=0.3, retry=RetryPolicy(attempts=2, base_seconds=0.01)) as client:
                with self.assertRaises(Unavailable) as caught:
                    client.get_study("s")
            self.assertEqual(caught.exception.attempts, 2)
            self.assertLess(time.monotonic() - started, 3)


if __name__ == "__main__":
    unittest.main()
