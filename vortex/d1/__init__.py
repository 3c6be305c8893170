"""D1 database bindings: ``env.DB`` SQL databases of a namespace, kept in SQLite (docs/d1.md).

``declaration`` is the deploy's ``d1_databases``, ``guard`` what hostile SQL is refused (files,
journaling, time and size), ``values`` how parameters and rows cross, ``statements`` splits a
script, ``database.Database`` runs one database's statements off the event loop,
``service.D1`` holds a server's databases and ``binding.d1_binding`` is what a run's calls reach.
Nothing is imported here: the function store's record imports ``declaration``.
"""
