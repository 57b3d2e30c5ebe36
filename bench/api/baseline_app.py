"""The floor: a raw ASGI app on the same uvicorn that answers a fixed JSON body, no auth, no database."""

BODY = b'{"RequestId":"00000000-0000-0000-0000-000000000000","AIJobList":{"AIJob":[]}}'


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json;charset=utf-8"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})
