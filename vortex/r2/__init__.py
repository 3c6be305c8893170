"""R2 bucket bindings: ``env.BUCKET`` objects kept through the function store (docs/r2.md).

``objects`` is an object's stored form (a header of its metadata, then its bytes), ``names``
turns keys into storage names that are safe on a file system and in S3 and sort as the keys do,
``service.R2`` checks every limit and answers get/put/head/delete/list for one namespace's
bucket, ``conditions`` is ``onlyIf``, ``declaration`` the deploy's ``r2_buckets``, and
``binding.r2_binding`` is what a run's calls reach. Nothing is imported here: the function
store's record imports ``declaration``, and ``service`` imports the store.
"""
