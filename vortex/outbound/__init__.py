"""Outbound ``fetch()`` of functions, made by the server on aiohttp's client.

Denied unless the function's allow-list names the host; even then, addresses that lead into the
machine or its network (loopback, private, link-local, cloud metadata) are refused after DNS
resolution, on every redirect, unless the operator opts in. Hosts ask for sub-requests over
their pipe; ``vortex.isolates`` never imports this package (it gets a ``Fetcher`` callable).
"""
