"""Service bindings: ``env.AUTH.fetch(request)`` runs another function of the caller's namespace.

targets.py      what a binding calls: a function's name and which entrypoint (its default
                export, or a named one)
declaration.py  the deploy's ``"services": [{"binding": "AUTH", "service": "auth-worker"}]``
binding.py      the supervisor's side of a call: find the target's active version, run it as a
                run of its own, and hand its Response back (harness: ``js/src/harness/services.js``)
"""
