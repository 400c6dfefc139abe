"""The HTTP transports (legacy SSE, streamable HTTP).

`app` builds the Starlette app, `gate` and `auth` guard it (Host/Origin checks, bearer tokens),
`server` runs it under uvicorn with our h11 protocol and connection limits.
"""
