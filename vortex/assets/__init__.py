"""Static assets, as Workers Static Assets has them: files deployed beside a function's code,
served on its origin without running it, and reachable from the code as ``env.ASSETS``.

- ``paths``: what an asset's path may be (one normalised absolute path).
- ``manifest``: a version's assets (path → content hash and size) and their settings, as a
  deploy gives them and the store keeps them.
- ``routing``: which asset a request names (``html_handling``, ``not_found_handling``): pure,
  used by the hosts (the listener) and the supervisor (``env.ASSETS.fetch``).
- ``mediatypes``: the ``Content-Type`` of a path.
- ``reader``: the supervisor's reads of asset bytes and manifests, cached and bounded.
- ``binding``: ``env.ASSETS`` of a run.

Asset bytes are stored content-addressed, per namespace (``FunctionStore.put_asset``); a
version's manifest is stored the same way, and its record holds only the manifest's hash.
"""
