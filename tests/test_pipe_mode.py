"""`tui-chat -p`: exactly the answer on stdout, errors on stderr, meaningful exit codes."""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
import time

import pytest

from tests.cli_helpers import run_cli
from tests.conftest import TEST_KEY
from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply


def test_pipe_output_equals_the_streamed_text_exactly(server: OpenAIStyleServer) -> None:
    deltas = ["# Héllo", " wörld\n\n", "```sh\necho hi\n```", "\n\nno trailing newline"]
    server.queue(StreamReply(deltas=deltas))
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Say hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "".join(deltas)
    assert result.stderr == ""
    assert server.requests[0]["messages"] == [{"role": "user", "content": "Say hello"}]
    assert server.requests[0]["model"] == "test-model"


def test_pipe_mode_loads_the_client_with_collection_off_and_answers_with_it_on(
    server: OpenAIStyleServer,
) -> None:
    """The client library's modules, loaded for the request, live for good: no collection
    runs before they are loaded (start-up, `tui.launch`), and collection is back on once
    the answer comes."""
    server.queue(StreamReply(deltas=["one", " two"]))
    probe = (
        "import gc, sys\n"
        "written, seen = [], []\n"
        "class Out:\n"
        "    def write(self, text): written.append(text); return len(text)\n"
        "    def flush(self): pass\n"
        "    def isatty(self): return False\n"
        "sys.stdout = Out()\n"
        "sys.argv = ['tui-chat', '-p', '-m', 'test-model', 'hi']\n"
        "import tui.launch\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and seen.append(bool(written)))\n"
        "code = tui.launch.main()\n"
        "print(repr(''.join(written)), code, gc.isenabled(), all(seen), file=sys.stderr)"
    )
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": TEST_KEY}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    # Collection is on, and every collection came after the answer's first word.
    assert done.stderr.split()[-5:] == ["'one", "two'", "0", "True", "True"], done.stderr


def test_pipe_reads_the_prompt_from_stdin_with_system_prompt(server: OpenAIStyleServer) -> None:
    server.queue(StreamReply(deltas=["42"]))
    result = run_cli(
        server.base_url, "-p", "-s", "Answer with a number.", stdin="Six times seven?\n"
    )
    assert result.returncode == 0
    assert result.stdout == "42"
    assert server.requests[0]["messages"] == [
        {"role": "system", "content": "Answer with a number."},
        {"role": "user", "content": "Six times seven?\n"},
    ]


def test_pipe_error_is_one_line_on_stderr_and_exits_non_zero(server: OpenAIStyleServer) -> None:
    server.queue(ErrorReply(404, '{"error": {"message": "model nope does not exist"}}'))
    result = run_cli(server.base_url, "-p", "-m", "nope", "Hi")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "404" in lines[0] and "'nope'" in lines[0] and "does not exist" in lines[0]
    assert "Traceback" not in result.stderr


def test_pipe_broken_stream_keeps_partial_output_and_fails(server: OpenAIStyleServer) -> None:
    server.queue(StreamReply(deltas=["partial ", "answer ", "never"], disconnect_after=2))
    result = run_cli(server.base_url, "-p", "Hi")
    assert result.returncode == 1
    assert result.stdout == "partial answer "
    assert "dropped mid-reply" in result.stderr


def test_a_reader_that_stops_reading_ends_the_answer_quietly(server: OpenAIStyleServer) -> None:
    """`tui-chat -p ... | head -1`: once nobody reads stdout the request stops (tokens
    are not paid for nobody), nothing but silence goes to stderr (a traceback from the
    unclosed stream did), and the status is a SIGPIPE death's, 141, as `yes | head -1`'s."""
    server.queue(
        StreamReply(deltas=["first line\n", *(f"more {i}\n" for i in range(1000))], delay=0.01)
    )
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": TEST_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "-p", "Hi"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == b"first line\n"
    process.stdout.close()  # as `head -1` exits
    closed = time.monotonic()
    try:
        status = process.wait(timeout=20)
    finally:
        process.kill()
    assert status == 141
    assert time.monotonic() - closed < 5.0, "stopped, not read to its end (10 s more)"
    assert process.stderr.read() == b""
    assert server.wait_for(lambda: server.open_streams == 0)
    assert server.requests[0]["stream"] is True


def test_the_answer_is_printed_with_stderr_closed(server: OpenAIStyleServer) -> None:
    """`tui-chat -p ... 2>&-` (a cron job, a daemon): Python gives no `sys.stderr` then,
    and the answer was lost to the error of writing a note nowhere."""
    server.queue(StreamReply(deltas=["An answer", " all the same."], reasoning=["Hmm."]))
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" 2>&-', "sh", sys.executable, "-m", "tui", "-p", "Hi"],
        stdout=subprocess.PIPE,
        env={**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": TEST_KEY},
        timeout=60,
    )
    assert result.stdout == b"An answer all the same."
    assert result.returncode == 0


def test_a_reader_of_stderr_that_goes_away_loses_nothing_of_the_answer(
    server: OpenAIStyleServer,
) -> None:
    """`tui-chat -p ... 2> >(head -1)`: the thinking and notes have nowhere to go, and the
    answer still goes whole to stdout (the first write to the dead stderr ended the reply,
    130, with nothing on stdout)."""
    server.queue(StreamReply(deltas=["The answer", " entire."], reasoning=["Thinking...\n"] * 50))
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": TEST_KEY}
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads stderr
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tui", "-p", "Hi"],
            stdout=subprocess.PIPE,
            stderr=write_end,
            env=env,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stdout == b"The answer entire."
    assert result.returncode == 0


def test_pipe_mode_with_stdout_closed_says_so_and_does_not_ask(server: OpenAIStyleServer) -> None:
    """`tui-chat -p ... >&-`: there is nowhere to put the answer, so it is not asked for
    (with stdout pointed at nothing the answer was paid for and thrown away, status 0)."""
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "tui", "-p", "Hi"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": TEST_KEY},
        timeout=60,
    )
    assert result.returncode == 2
    assert "stdout is closed" in result.stderr
    assert server.requests == []


def test_pipe_server_down_names_the_endpoint() -> None:
    result = run_cli("http://127.0.0.1:9/v1", "-p", "Hi")
    assert result.returncode == 1
    assert "Nothing is listening at http://127.0.0.1:9/v1" in result.stderr
    assert TEST_KEY not in result.stderr


def test_pipe_without_prompt_is_a_usage_error(server: OpenAIStyleServer) -> None:
    result = run_cli(server.base_url, "-p", stdin="   ")
    assert result.returncode == 2
    assert "empty" in result.stderr
    assert server.requests == []


def test_pipe_on_a_terminal_never_emits_the_models_control_sequences(
    server: OpenAIStyleServer,
) -> None:
    """The bytes written to a real pseudo-terminal carry the escapes as visible symbols."""
    server.queue(StreamReply(deltas=["Clear\x1b[2J", " clip\x1b]52;c;ZXZpbA==\x07", " done"]))
    primary, secondary = pty.openpty()
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": TEST_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "-p", "hostile"],
        stdout=secondary,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    written = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        written += chunk
    assert process.wait(timeout=30) == 0
    os.close(primary)
    assert b"\x1b" not in written and b"\x07" not in written
    assert "Clear␛[2J clip␛]52;c;ZXZpbA==␇ done".encode() in written


def test_pipe_explains_each_http_error_on_one_stderr_line(server: OpenAIStyleServer) -> None:
    cases = {
        400: "refused the request (400)",
        401: "rejected the API key (401)",
        403: "Access denied (403)",
        404: "Not found (404)",
        413: "too large (413)",
        500: "Server error (500)",
        502: "Bad gateway (502)",
        503: "Service unavailable (503)",
        504: "Gateway timeout (504)",
    }
    for status, expected in cases.items():
        attempts = 3 if status >= 500 else 1  # two automatic retries, each said on stderr
        server.queue(*[ErrorReply(status, headers={"Retry-After": "0"})] * attempts)
        result = run_cli(server.base_url, "-p", "-m", "test-model", "Hi")
        assert result.returncode == 1 and result.stdout == ""
        *retries, failure = result.stderr.splitlines()
        assert expected in failure and len(retries) == attempts - 1, result.stderr
        assert all("retrying in 0 s" in line for line in retries)


def test_pipe_says_on_stderr_when_it_retries(server: OpenAIStyleServer) -> None:
    server.queue(ErrorReply(503, headers={"Retry-After": "0"}), StreamReply(deltas=["Later."]))
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Hi")
    assert result.returncode == 0 and result.stdout == "Later."
    assert "Service unavailable (503); retrying in 0 s (attempt 2 of 3)" in result.stderr


def test_the_client_library_loads_without_the_aiohttp_transport_nothing_uses() -> None:
    """openai imports its aiohttp transport whenever aiohttp is installed (the serve extra
    brings it): a tenth of a second before pipe mode's first byte, for nothing. The client
    still works on its own transport (every other test here)."""
    from importlib.util import find_spec

    if find_spec("aiohttp") is None:
        pytest.skip("aiohttp is not installed here, so openai cannot import it anyway")
    code = "import sys, tui.backend, openai; print('aiohttp' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False"], result.stderr


def test_unreadable_certificates_are_said_in_words() -> None:
    """The TLS context is built once, ahead of the first request to an `https://` server;
    a certificate file that cannot be read is a clear failure of the request, not a
    traceback (in the app, the start-up thread that builds it must not stop the app
    either), and nothing is sent."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        result = run_cli(
            f"https://127.0.0.1:{listener.getsockname()[1]}/v1",
            "-p",
            "-m",
            "test-model",
            "Hi",
            env={"SSL_CERT_FILE": "/nonexistent/ca-bundle.pem"},
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    assert result.returncode != 0
    assert "certificates" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_plain_http_server_is_asked_whatever_the_certificates(
    server: OpenAIStyleServer,
) -> None:
    """A server asked without TLS needs no certificates: an unreadable store does not stop
    the answer (it is read only if the server sends the request on to https)."""
    server.queue(StreamReply(deltas=["Plain ", "answer."]))
    result = run_cli(
        server.base_url,
        "-p",
        "-m",
        "test-model",
        "Hi",
        env={"SSL_CERT_FILE": "/nonexistent/ca-bundle.pem"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Plain answer."
