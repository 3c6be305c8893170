"""The R2 apps the tests deploy: an upload/download service as Workers' R2 docs write one."""

UPLOADS = r"""
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = decodeURIComponent(url.pathname.slice(1));
    if (url.pathname === "/" && request.method === "GET") {
      const o = Object.fromEntries(url.searchParams);
      const options = { prefix: o.prefix, cursor: o.cursor, delimiter: o.delimiter,
                        limit: o.limit ? Number(o.limit) : undefined,
                        include: o.include ? o.include.split(",") : undefined };
      const page = await env.BUCKET.list(options);
      return Response.json({
        keys: page.objects.map((obj) => obj.key),
        objects: page.objects.map((obj) => ({ key: obj.key, size: obj.size, etag: obj.etag,
          httpMetadata: obj.httpMetadata, customMetadata: obj.customMetadata,
          uploaded: obj.uploaded.toISOString() })),
        truncated: page.truncated, cursor: page.cursor ?? null,
        delimitedPrefixes: page.delimitedPrefixes,
      });
    }
    switch (request.method) {
      case "PUT": {
        const custom = request.headers.get("x-meta") ? { note: request.headers.get("x-meta") } : undefined;
        const object = await env.BUCKET.put(key, request.body, {
          httpMetadata: request.headers, customMetadata: custom,
          onlyIf: request.headers.has("if-match") || request.headers.has("if-none-match") ? request.headers : undefined,
        });
        if (object === null) return new Response("precondition failed", { status: 412 });
        return Response.json({ key: object.key, size: object.size, etag: object.etag,
                               httpEtag: object.httpEtag, version: object.version,
                               md5: object.checksums.toJSON().md5 });
      }
      case "HEAD":
      case "GET": {
        const object = await env.BUCKET.get(key, { onlyIf: request.headers, range: request.headers });
        if (object === null) return new Response("Object Not Found", { status: 404 });
        const headers = new Headers();
        object.writeHttpMetadata(headers);
        headers.set("etag", object.httpEtag);
        headers.set("x-custom", JSON.stringify(object.customMetadata));
        if (!("body" in object)) return new Response(null, { status: 304, headers });
        if (object.range) {
          headers.set("content-range", `bytes ${object.range.offset}-${object.range.offset + object.range.length - 1}/${object.size}`);
          return new Response(object.body, { status: 206, headers });
        }
        return new Response(object.body, { headers });
      }
      case "DELETE": {
        const keys = url.searchParams.getAll("key");
        await env.BUCKET.delete(keys.length ? keys : key);
        return new Response("deleted");
      }
    }
    return new Response("method not allowed", { status: 405 });
  },
};
"""
