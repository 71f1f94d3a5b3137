"""The request pipeline: faults, routing, authentication, validation, idempotency, handlers.

One ASGI callable serves every operation of the spec. Its order mirrors a real deployment: injected
faults first (they model the network and the load balancer), then routing (404/405), credentials
(401), the rate limits a test set (429, ``limits``), business scope (403/404), parameter and body
validation (400), and finally the handler. The response is shaped to the spec (see ``conform``) and
carries ``X-Request-ID``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import logging
import traceback
from typing import Any, Literal

import anyio
from starlette.requests import Request
from starlette.responses import Response

from ..._json import dumps_exact
from .. import _handlers
from .._books.state import Books
from .._books.transaction import Transaction
from .._books.world import World
from .auth import Claims, authentication_required
from .conform import Conformer
from .context import HANDLERS, Context, Reply
from .errors import ApiError, validation_error
from .faults import Decision, FaultRule, Faults
from .limits import Limits, rate_limited
from .recording import RecordedRequest, RequestLog
from .spec import MethodNotAllowed, Operation, OperationTable
from .validation import RequestValidator, parse_body

__all__ = ["DropStyle", "FakeApp"]

logger = logging.getLogger("thredfi_async.testing")

DropStyle = Literal["raise", "truncate"]

_JSON = "application/json"


class FakeApp:
    """The ASGI application behind ``FakeThredfi.app``."""

    def __init__(
        self,
        world: World,
        table: OperationTable,
        faults: Faults,
        log: RequestLog,
        *,
        drop_style: DropStyle = "raise",
        raise_server_errors: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.world = world
        self.table = table
        self.faults = faults
        self.limits = limits or Limits(world.clock.timestamp)
        self.log = log
        self.drop_style: DropStyle = drop_style
        self.raise_server_errors = raise_server_errors
        self.validator = RequestValidator()
        self.conformer = Conformer()
        self.server_errors: list[str] = []
        self._request_counter = 0
        _handlers.discover()
        missing = set(table.operations) - set(HANDLERS)
        if missing:
            raise RuntimeError(f"operations without a handler: {sorted(missing)}")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        self._request_counter += 1
        request_id = f"req_{self._request_counter:08d}"
        method = request.method.upper()
        path = scope["path"]
        route: tuple[Operation, dict[str, str]] | None = None
        route_error: ApiError | None = None
        try:
            route = self.table.match(method, path)
        except MethodNotAllowed as exc:
            route_error = ApiError(
                405,
                "method_not_allowed",
                f'Method "{method}" not allowed.',
                headers={"Allow": ", ".join(exc.allowed)},
            )
        op, path_params = route if route else (None, {})
        record = RecordedRequest(
            method=method,
            path=path,
            query=dict(request.query_params),
            operation_id=op.operation_id if op else None,
            business_id=path_params.get("business_id"),
            idempotency_key=request.headers.get("idempotency-key"),
            request_id=request_id,
            at=self.world.clock.now(),
            token_exchange=bool(op and op.token_exchange),
        )
        self.log.add(record)
        decision = self.faults.decide(method, path, record.operation_id, bool(op and op.paginated))
        record.faults = decision.labels
        if decision.delay:
            await anyio.sleep(decision.delay)
        if decision.drop is not None:
            await self._drop(send, request_id)
            return
        if decision.fail is not None:
            await self._send_failure(scope, receive, send, decision.fail, record)
            return
        raw_body = await request.body()
        status, payload, headers = self._handle(
            op, path_params, route_error, request, raw_body, record
        )
        record.status = status
        await self._finish(scope, receive, send, decision, record, status, payload, headers)

    async def _finish(
        self,
        scope: Any,
        receive: Any,
        send: Any,
        decision: Decision,
        record: RecordedRequest,
        status: int,
        payload: bytes | None,
        headers: dict[str, str],
    ) -> None:
        if decision.drop_after is not None:
            record.status = None
            await self._drop(send, record.request_id)
            return
        if decision.fail_after is not None:
            await self._send_failure(scope, receive, send, decision.fail_after, record)
            return
        headers["X-Request-ID"] = record.request_id
        if payload is None:
            response = Response(status_code=status, headers=headers)
        else:
            response = Response(payload, status, headers, media_type=_JSON)
        await response(scope, receive, send)

    async def _send_failure(
        self, scope: Any, receive: Any, send: Any, rule: FaultRule, record: RecordedRequest
    ) -> None:
        body = rule.failure_body() | {"request_id": record.request_id}
        headers = rule.failure_headers() | {"X-Request-ID": record.request_id}
        record.status = rule.status
        record.error_code = str(body["error_code"])
        response = Response(dumps_exact(body), rule.status, headers, media_type=_JSON)
        await response(scope, receive, send)

    async def _drop(self, send: Any, request_id: str) -> None:
        if self.drop_style == "raise":
            import httpx

            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        # Served over a socket: start a response and return without finishing it; the server
        # then closes the connection and the client sees an incomplete message.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", _JSON.encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b'{"', "more_body": True})

    # -- the synchronous part: everything between receiving the body and answering -----------

    def _handle(
        self,
        op: Operation | None,
        path_params: dict[str, str],
        route_error: ApiError | None,
        request: Request,
        raw_body: bytes,
        record: RecordedRequest,
    ) -> tuple[int, bytes | None, dict[str, str]]:
        """Run the request and render its answer; a request that fails changes nothing.

        Everything from the handler to the encoded body runs in one transaction: a refusal or
        a crash anywhere in it, rendering included, rolls the request's changes back.
        """
        object_detail = op is not None and (op.method == "DELETE" or op.path.endswith("/delete/"))
        transaction = Transaction(self.world) if op is not None and op.method != "GET" else None
        try:
            if route_error is not None:
                raise route_error
            if op is None:
                raise self._not_found(request.method.upper(), request.url.path)
            reply = self._run(op, path_params, request, raw_body, record, transaction)
            payload = reply.body
            if payload is not None:
                self.conformer.conform(payload, op.response_schema(reply.status))
            encoded = None if payload is None else dumps_exact(payload)
        except ApiError as error:
            if transaction is not None:
                transaction.rollback()
            body = error.body(record.request_id, object_detail=object_detail)
            record.error_code = error.error_code
            return error.status, dumps_exact(body), dict(error.headers)
        except Exception as exc:
            if transaction is not None:
                transaction.rollback()
            if self.raise_server_errors:
                raise
            trace = traceback.format_exc()
            self.server_errors.append(trace)
            logger.error("fake Thredfi handler failed:\n%s", trace)
            body = {
                "error_code": "internal_error",
                "message": f"Internal server error: {exc.__class__.__name__}",
                "detail": str(exc),
                "request_id": record.request_id,
            }
            record.error_code = "internal_error"
            return 500, dumps_exact(body), {}
        finally:
            if transaction is not None:
                transaction.close()
        return reply.status, encoded, dict(reply.headers)

    def _not_found(self, method: str, path: str) -> ApiError:
        hint = ""
        if not path.endswith("/"):
            try:
                if self.table.match(method, path + "/") is not None:
                    hint = " Every Thredfi path ends with a slash."
            except MethodNotAllowed:
                hint = " Every Thredfi path ends with a slash."
        return ApiError(404, "not_found", f"No route for {method} {path}.{hint}")

    def _run(
        self,
        op: Operation,
        path_params: dict[str, str],
        request: Request,
        raw_body: bytes,
        record: RecordedRequest,
        transaction: Transaction | None,
    ) -> Reply:
        world = self.world
        basic: tuple[str, str] | None = None
        claims: Claims | None = None
        authorization = request.headers.get("authorization", "")
        if op.security == "basic":
            basic = self._basic(authorization)
            record.token_kind = "basic"
        elif op.security in ("partner", "business"):
            claims = self._bearer(authorization)
            record.token_kind = "partner" if claims.is_partner else "business"
        if self.limits.active:
            self._limit(basic, claims, path_params, record)
        self.validator.path(op, path_params)
        books = self._scope(op, path_params, claims)
        query, extra = self.validator.query(op, request.query_params.multi_items())
        body: dict[str, Any] = {}
        if op.any_body_encoding:
            parsed = parse_body(request.headers.get("content-type", ""), raw_body, op)
            body = parsed if isinstance(parsed, dict) else {}
        elif op.body_schema is not None:
            body = self._body(op, request, raw_body)
        key = request.headers.get("idempotency-key")
        replay_key = None
        sent: Any = None
        if key and books is not None and op.idempotency_header:
            replay_key = (op.operation_id, key)
            sent = copy.deepcopy((path_params, body))
            stored = books.idempotent_replies.get(replay_key)
            if stored is not None:
                if stored[0] != sent:
                    raise idempotency_key_reused(key)
                record.replayed = True
                return Reply(200, copy.deepcopy(stored[2]), {"Idempotent-Replayed": "true"})
        base_url = f"{request.url.scheme}://{request.url.netloc}"
        ctx = Context(
            world=world,
            op=op,
            path_params=path_params,
            query=query,
            extra_query=extra,
            body=body,
            headers=dict(request.headers),
            url=str(request.url),
            base_url=base_url,
            claims=claims,
            books_=books,
            idempotency_key=key if replay_key else None,
            basic_credentials=basic,
            transaction=transaction,
        )
        reply = HANDLERS[op.operation_id](ctx)
        if replay_key is not None and books is not None and 200 <= reply.status < 300:
            self.conformer.conform(reply.body, op.response_schema(reply.status))
            answered = copy.deepcopy(reply.body)
            books.idempotent_replies[replay_key] = (sent, reply.status, answered)
        return reply

    def _limit(
        self,
        basic: tuple[str, str] | None,
        claims: Claims | None,
        path_params: dict[str, str],
        record: RecordedRequest,
    ) -> None:
        """The rate limits, once the caller is known (a limit is per partner) and before
        anything else is checked: a limiter stands in front of the application."""
        partner_uuid = basic[0] if basic is not None else claims.partner_uuid if claims else None
        if partner_uuid is None:
            return
        wait = self.limits.admit(partner_uuid, path_params.get("business_id"))
        if wait > 0:
            record.refused_by = "rate_limit"
            raise rate_limited(wait)

    def _body(self, op: Operation, request: Request, raw_body: bytes) -> dict[str, Any]:
        """The request body as a dict, validated; refused as the API's serializers refuse it.

        Django REST framework answers "No data provided" for a body of JSON ``null`` and for a
        missing body where one is required; anything but an object is "Invalid data".
        """
        parsed = parse_body(request.headers.get("content-type", ""), raw_body, op)
        if parsed is None:
            if op.body_required or raw_body.strip():  # something was sent: a JSON null
                raise validation_error({"non_field_errors": ["No data provided"]})
            parsed = {}
        if not isinstance(parsed, dict):
            raise validation_error({"non_field_errors": ["Invalid data. Expected a dictionary."]})
        self.validator.body(op, parsed)
        return parsed

    def _basic(self, authorization: str) -> tuple[str, str]:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            raise ApiError(
                401,
                "authentication_required",
                "HTTP Basic credentials (partner UUID and API key) are required.",
                headers={"WWW-Authenticate": 'Basic realm="thredfi"'},
            )
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(
                401,
                "authentication_required",
                "Malformed HTTP Basic credentials.",
                headers={"WWW-Authenticate": 'Basic realm="thredfi"'},
            ) from None
        partner_uuid, _, api_key = decoded.partition(":")
        partner = self.world.partners.get(partner_uuid)
        if partner is None or partner.api_key != api_key:
            raise ApiError(
                401,
                "invalid_client",
                "Invalid partner credentials.",
                headers={"WWW-Authenticate": 'Basic realm="thredfi"'},
            )
        return partner_uuid, api_key

    def _bearer(self, authorization: str) -> Claims:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise authentication_required()
        return self.world.tokens.verify(token.strip())

    def _scope(
        self, op: Operation, path_params: dict[str, str], claims: Claims | None
    ) -> Books | None:
        """Which token may reach which business (docs/api-behaviour.md, "Tokens and businesses")."""
        if claims is None:
            return None
        if op.security == "partner" and not claims.is_partner:
            raise _forbidden("This operation needs the partner token.")
        business_id = path_params.get("business_id")
        if business_id is None:
            return None
        if not claims.is_partner and claims.business_id != business_id:
            raise _forbidden("The token is for a different business.")
        books = self.world.books.get(business_id)
        # Another partner's business is "not found", as the error guide lists it: a partner
        # cannot even learn that it exists.
        if books is None or books.business.partner_uuid != claims.partner_uuid:
            raise ApiError(404, "business_not_found", f'Business "{business_id}" was not found.')
        return books


def idempotency_key_reused(key: str) -> ApiError:
    """A key sent again with a different request. The API's answer is not documented; the
    fake refuses it rather than replay an answer to another request (docs/fake.md)."""
    return ApiError(
        409,
        "idempotency_key_reused",
        f'Idempotency-Key "{key}" was already used with a different request.',
    )


def _forbidden(message: str) -> ApiError:
    return ApiError(403, "permission_denied", message)


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
