"""A stand-in model server on loopback for tests and benchmarks: OpenAI `POST /v1/chat/completions`
and Anthropic `POST /v1/messages`, with fixed latency, rule-based replies and injected faults.

    with StandIn(latency_s=0.05) as s:               # in a background thread
        target = workbench.openai_compatible(base_url=s.openai_base_url, model="m")
        s.inject("429", "500")                       # the next two requests fail, then normal
    with StandIn.spawn(latency_s=0.05) as s: ...     # in its own process (benchmarks)

Replies: `replies` (a mapping from the last user message, or a function of it), else
"echo: <last user message>". A request for structured output (OpenAI `response_format`, Anthropic
`tools`) gets a judge verdict `{"reasoning": ..., "score": judge_score}`, or `verdict` verbatim;
one whose schema asks for a "message" answers as a simulated user (`simulated_user`, a function
of the assistant's last reply returning the message or the whole answer; default: a message
quoting it, never done) and one asking for a "verdict" gets `conversation_verdict` (issue 21).
Tool calls (both APIs): `tool_rounds` maps the last user message (or a function of it) to rounds
of calls, each a list of (name, arguments); a request offering `tools` gets the next round not
yet answered since that user message (OpenAI `tool_calls`, Anthropic `tool_use` blocks), then
the text reply followed by " | " and the last round's results.
Faults (a queue, or per path): "429" (with Retry-After: `retry_after`), "500", "529", "401",
"400" (a bad request whose message echoes the key presented, cut and whole, as a hostile or
careless server may), "hang" (no answer for `hang_s`), "malformed" (a 200 whose body is not
JSON), "drop" (the connection closed without an answer). The server stops by itself after
`max_lifetime_s`.

Hostile replies (issue 18), for the user messages that `hostile` maps to one of `HOSTILE`:
"surrogate" (a reply holding a lone surrogate, escaped as JSON allows), "huge_numbers" (usage
of 10**12 prompt and 10**20 completion tokens), "oversize" (a reply of `oversize_bytes`,
streamed in chunks so the server itself stays small), "key_echo" (a 400 whose error message
echoes the API key the request carried, as some servers do).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from workbench.testing._spawn import SpawnedStandIn

FAULTS = ("429", "500", "529", "401", "400", "hang", "malformed", "drop")
HOSTILE = ("surrogate", "huge_numbers", "oversize", "key_echo")
SURROGATE_REPLY = "bad\ud800surrogate"
HUGE_USAGE = {"prompt": 10**12, "completion": 10**20}
OPENAI_PATH, ANTHROPIC_PATH = "/v1/chat/completions", "/v1/messages"


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    retry_after: float | None = None  # 429 only; None: the server's default
    retry_after_ms: float | None = None  # 429 only: also send retry-after-ms


_KEY_HEADERS = ("authorization", "x-api-key")  # never kept: the stand-in holds no key


class StandIn:
    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        replies: Mapping[str, str] | Callable[[str], str] | None = None,
        judge_score: float = 1.0,
        verdict: str | None = None,
        retry_after: float = 0.0,
        hang_s: float = 30.0,
        api_key: str | None = None,
        hostile: Mapping[str, str] | None = None,
        oversize_bytes: int = 50_000_000,
        max_lifetime_s: float = 300.0,
        host: str = "127.0.0.1",
        port: int = 0,
        tool_rounds: Mapping[str, Any] | Callable[[str], Any] | None = None,
        simulated_user: Callable[[str], Any] | None = None,
        conversation_verdict: str = "pass",
    ) -> None:
        self.tool_rounds = tool_rounds
        self.simulated_user, self.conversation_verdict = simulated_user, conversation_verdict
        self.latency_s, self.replies, self.judge_score = latency_s, replies, judge_score
        self.verdict, self.retry_after, self.hang_s = verdict, retry_after, hang_s
        self.api_key, self.max_lifetime_s, self.host, self.port = (
            api_key,
            max_lifetime_s,
            host,
            port,
        )
        unknown = sorted(set((hostile or {}).values()) - set(HOSTILE))
        if unknown:
            raise ValueError(f"unknown hostile reply kind(s) {unknown}; known: {HOSTILE}")
        self.hostile, self.oversize_bytes = dict(hostile or {}), oversize_bytes
        self.counts: Counter[str] = Counter()  # requests received per path
        self.faults_served: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.first_request_at: float | None = None  # time.time() of the first since reset()
        self.bodies: deque[dict[str, Any]] = deque(maxlen=200)  # the last request bodies
        # ... and their headers, less the key's (authorization, x-api-key)
        self.headers: deque[dict[str, str]] = deque(maxlen=200)
        self._queue: deque[Fault] = deque()
        self._per_path: dict[str, deque[Fault]] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    # -- the public surface ---------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    def inject(self, *faults: str | Fault, path: str | None = None) -> None:
        """Serve these faults to the next requests (to `path` only, if given), in order."""
        items = [f if isinstance(f, Fault) else Fault(f) for f in faults]
        unknown = [f.kind for f in items if f.kind not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known: {FAULTS}")
        (self._per_path.setdefault(path, deque()) if path else self._queue).extend(items)

    def reset(self) -> None:
        self.counts.clear()
        self.faults_served.clear()
        self.bodies.clear()
        self.headers.clear()
        self.peak_in_flight = 0
        self.first_request_at = None

    @classmethod
    def spawn(cls, **options: Any) -> SpawnedStandIn:
        """The same server in a separate process (so it shares no core or GIL with the client)."""
        return SpawnedStandIn(options)

    def __enter__(self) -> StandIn:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the stand-in did not start within 10 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    # -- serving --------------------------------------------------------------------------
    def _serve(self, ready: threading.Event) -> None:
        asyncio.run(self.serve(ready.set))

    async def serve(self, on_ready: Callable[[], None]) -> None:
        """Serve until stopped or `max_lifetime_s` passed."""
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application()
        app.router.add_post(OPENAI_PATH, self._handle)
        app.router.add_post(ANTHROPIC_PATH, self._handle)
        app.router.add_get("/_stats", self._stats)
        app.router.add_post("/_reset", self._reset)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        on_ready()
        try:
            await asyncio.wait_for(self._stop.wait(), self.max_lifetime_s)
        except TimeoutError:
            pass
        finally:
            await runner.cleanup()

    async def _stats(self, request: web.Request) -> web.Response:
        stats = {"counts": dict(self.counts), "peak_in_flight": self.peak_in_flight}
        stats["faults_served"] = dict(self.faults_served)
        stats["first_request_at"] = self.first_request_at
        return web.json_response(stats)

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({})

    def _next_fault(self, path: str) -> Fault | None:
        queue = self._per_path.get(path)
        if queue:
            return queue.popleft()
        return self._queue.popleft() if self._queue else None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if self.first_request_at is None:
            self.first_request_at = time.time()  # wall clock: comparable across processes
        self.counts[path] += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            body = await request.json()
            self.bodies.append(body)
            self.headers.append({name.lower(): value for name, value in request.headers.items()
                                 if name.lower() not in _KEY_HEADERS})  # fmt: skip
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            fault = self._next_fault(path)
            if fault is None and self.api_key is not None and _key_of(request) != self.api_key:
                fault = Fault("401")
            if fault is not None:
                self.faults_served[fault.kind] += 1
                return await self._fault(request, fault)
            kind = self.hostile.get(_last_user(body)[0]) if self.hostile else None
            if kind is not None:
                self.faults_served[kind] += 1
                return await self._hostile(request, path, body, kind)
            return web.json_response(_answer(self, path, body))
        finally:
            self.in_flight -= 1

    async def _fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        kind = fault.kind
        if kind == "hang":
            await asyncio.sleep(self.hang_s)
            return web.Response(status=504)
        if kind == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if kind == "malformed":
            return web.Response(
                status=200, text='{"id": "x", "choices": [', content_type="application/json"
            )
        headers: dict[str, str] = {}
        if kind == "429":
            wait = fault.retry_after if fault.retry_after is not None else self.retry_after
            headers["retry-after"] = f"{wait:g}"
            if fault.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{fault.retry_after_ms:g}"
        key = _key_of(request)
        message = {
            "401": f"Incorrect API key provided: {key}",
            "400": f"Invalid request for key {key} (starts {key[:12]}, ends {key[-12:]})",
            "529": "Overloaded",
        }
        error = {"type": f"error_{kind}", "message": message.get(kind, f"stand-in fault {kind}")}
        return web.json_response(
            {"type": "error", "error": error}, status=int(kind), headers=headers
        )

    async def _hostile(
        self, request: web.Request, path: str, body: dict[str, Any], kind: str
    ) -> web.StreamResponse:
        if kind == "key_echo":
            message = f"invalid request made with key {_key_of(request)}; check your account"
            error = {"type": "invalid_request_error", "message": message}
            return web.json_response({"type": "error", "error": error}, status=400)
        if kind == "surrogate":
            return web.json_response(_answer(self, path, body, text=SURROGATE_REPLY))
        answer = _answer(self, path, body)
        if kind == "huge_numbers":
            usage = answer["usage"]
            if path == OPENAI_PATH:
                usage["prompt_tokens"], usage["completion_tokens"] = HUGE_USAGE.values()
            else:
                usage["input_tokens"], usage["output_tokens"] = HUGE_USAGE.values()
            return web.json_response(answer)
        return await self._oversize(request, answer)

    async def _oversize(self, request: web.Request, answer: dict[str, Any]) -> web.StreamResponse:
        """`answer` with its reply text `oversize_bytes` long, written in 64 KiB chunks."""
        marker = "\u0000MARK\u0000"
        head, tail = json.dumps(_with_text(answer, marker)).split(json.dumps(marker)[1:-1])
        response = web.StreamResponse(headers={"content-type": "application/json"})
        await response.prepare(request)
        try:
            await response.write(head.encode())
            chunk = b"x" * 65536
            for _ in range(self.oversize_bytes // len(chunk)):
                await response.write(chunk)
            await response.write(tail.encode())
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading and closed: what a bounded client does
        return response


def _with_text(answer: dict[str, Any], text: str) -> dict[str, Any]:
    if "choices" in answer:
        answer["choices"][0]["message"]["content"] = text
    else:
        answer["content"] = [{"type": "text", "text": text}]
    return answer


def _key_of(request: web.Request) -> str:
    auth = request.headers.get("authorization", "")
    return request.headers.get("x-api-key") or auth.removeprefix("Bearer ")


def _words(messages: Any) -> int:
    total = 0
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        total += len(str(content).split()) if content else 0
    return total


def _is_tool_turn(message: Any) -> bool:
    """A message of a tool exchange: OpenAI's `tool` results and assistant `tool_calls`,
    Anthropic's `tool_result` and `tool_use` blocks."""
    if not isinstance(message, dict):
        return False
    content = message.get("content")
    blocks = content if isinstance(content, list) else []
    kinds = {b.get("type") for b in blocks if isinstance(b, dict)}
    return (
        message.get("role") == "tool"
        or bool(message.get("tool_calls"))
        or bool(kinds & {"tool_result", "tool_use"})
    )


def _last_user(body: dict[str, Any]) -> tuple[str, list[Any]]:
    """(the last user message that is not a tool result, the messages after it)."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") == "user" and not _is_tool_turn(message):
            content = message.get("content", "")
            if isinstance(content, list):
                content = "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
            return str(content), messages[index + 1 :]
    return "", messages


def _results(after: list[Any]) -> list[str]:
    """The results of the last tool round, in order."""
    found: list[str] = []
    for message in reversed(after):
        if message.get("role") == "tool":
            found.append(str(message.get("content")))
            continue
        content = message.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        results = [str(b.get("content")) for b in blocks if b.get("type") == "tool_result"]
        if not results:
            break
        found.extend(reversed(results))
    return list(reversed(found))


def _tool_round(server: StandIn, body: dict[str, Any]) -> tuple[list[Any] | None, str]:
    """(the calls to answer with, or None for text; the suffix of a final text reply)."""
    last, after = _last_user(body)
    rounds = server.tool_rounds
    planned = rounds(last) if callable(rounds) else (rounds or {}).get(last)
    done = sum(1 for m in after if m.get("role") == "assistant" and _is_tool_turn(m))
    if planned and done < len(planned):
        return list(planned[done]), ""
    results = _results(after)
    return None, (" | " + "; ".join(results)) if results else ""


def _reply_text(server: StandIn, body: dict[str, Any]) -> str:
    last, _ = _last_user(body)
    replies = server.replies
    if callable(replies):
        return replies(last)
    if replies is not None and last in replies:
        return replies[last]
    return f"echo: {last}"


def _answer(
    server: StandIn, path: str, body: dict[str, Any], *, text: str | None = None
) -> dict[str, Any]:
    forced = (body.get("tool_choice") or {}).get("type") == "tool"  # Anthropic's judge
    structured = bool(body.get("response_format")) or forced
    verdict: dict[str, Any] = {"reasoning": "stand-in verdict", "score": server.judge_score}
    if structured:
        verdict = _structured(server, body, verdict)
    calls: list[Any] | None = None
    if text is None:
        text = server.verdict if server.verdict is not None else json.dumps(verdict)
        if not structured:
            text = _reply_text(server, body)
            if body.get("tools"):
                calls, suffix = _tool_round(server, body)
                text += suffix
    if calls:
        return _calls_answer(path, body, calls)
    prompt = _words(body.get("messages")) + len(str(body.get("system") or "").split())
    completion = max(1, len(text.split()))
    model = str(body.get("model", "stand-in"))
    if path == OPENAI_PATH:
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        usage["total_tokens"] = prompt + completion
        return {"id": "chatcmpl-standin", "object": "chat.completion", "created": 0,
                "model": model, "choices": [choice], "usage": usage}  # fmt: skip
    if structured and server.verdict is None:
        tool = body["tools"][0]["name"]
        content: list[dict[str, Any]] = [
            {"type": "tool_use", "id": "toolu_standin", "name": tool, "input": verdict}
        ]
    else:
        content = [{"type": "text", "text": text}]
    return {"id": "msg_standin", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": completion}}  # fmt: skip


def _structured(server: StandIn, body: dict[str, Any], verdict: dict[str, Any]) -> dict[str, Any]:
    """A simulated user's turn or a conversation verdict (issue 21) when the schema asks for
    one (its "message" or "verdict" property), else the SEMANTIC_ASSERT verdict."""
    form = (body.get("response_format") or {}).get("json_schema") or {}
    schema = form.get("schema") or ((body.get("tools") or [{}])[0].get("input_schema") or {})
    properties = schema.get("properties") or {}
    if "verdict" in properties:
        return {"reasoning": "stand-in verdict", "verdict": server.conversation_verdict}
    if "message" not in properties:
        return verdict
    last, _ = _last_user(body)
    played = server.simulated_user(last) if server.simulated_user else None
    if isinstance(played, dict):
        return played
    message = played if isinstance(played, str) else f"simulated reply to: {last[:60]}"
    return {"message": message, "done": False, "goal_reached": False, "reason": "stand-in"}


def _calls_answer(path: str, body: dict[str, Any], calls: list[Any]) -> dict[str, Any]:
    """A reply asking for `calls` [(name, arguments)], in the API's own format."""
    model = str(body.get("model", "stand-in"))
    prompt = _words(body.get("messages"))
    if path == OPENAI_PATH:
        tool_calls = [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (name, args) in enumerate(calls)
        ]  # fmt: skip
        message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
        choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
        usage = {"prompt_tokens": prompt, "completion_tokens": 5, "total_tokens": prompt + 5}
        return {"id": "chatcmpl-standin", "object": "chat.completion", "created": 0,
                "model": model, "choices": [choice], "usage": usage}  # fmt: skip
    content = [
        {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
        for i, (name, args) in enumerate(calls)
    ]
    return {"id": "msg_standin", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": "tool_use", "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": 5}}  # fmt: skip
