"""The D1 apps the tests deploy: a users API as Workers' D1 docs and Hono apps write one, and
probes of what D1 gives back (types, batches, errors)."""

USERS = r"""
const json = (data, status = 200) => Response.json(data, { status });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const db = env.DB;
    const id = Number(url.pathname.split("/")[2]);
    try {
      if (url.pathname === "/setup") {
        return json(await db.exec(`
          CREATE TABLE IF NOT EXISTS users (
            id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, name TEXT
          );
          CREATE TABLE IF NOT EXISTS posts (
            id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT
          );`));
      }
      if (url.pathname === "/users" && request.method === "POST") {
        const { email, name } = await request.json();
        const result = await db.prepare("INSERT INTO users (email, name) VALUES (?, ?)")
          .bind(email, name).run();
        return json({ id: result.meta.last_row_id, meta: result.meta, success: result.success }, 201);
      }
      if (url.pathname === "/users" && request.method === "GET") {
        const { results, success, meta } = await db.prepare(
          "SELECT id, email, name FROM users WHERE name LIKE ?1 OR ?1 IS NULL ORDER BY id"
        ).bind(url.searchParams.get("name")).all();
        return json({ results, success, rows_read: meta.rows_read });
      }
      if (url.pathname.startsWith("/users/") && request.method === "GET") {
        const user = await db.prepare("SELECT * FROM users WHERE id = ?").bind(id).first();
        if (user === null) return json({ error: "not found" }, 404);
        const email = await db.prepare("SELECT email FROM users WHERE id = ?").bind(id).first("email");
        return json({ user, email });
      }
      if (url.pathname.startsWith("/users/") && request.method === "PUT") {
        const { name } = await request.json();
        const { meta } = await db.prepare("UPDATE users SET name = ? WHERE id = ?").bind(name, id).run();
        return json({ changes: meta.changes, changed_db: meta.changed_db });
      }
      if (url.pathname.startsWith("/users/") && request.method === "DELETE") {
        const { meta } = await db.prepare("DELETE FROM users WHERE id = ?").bind(id).run();
        return json({ changes: meta.changes });
      }
      if (url.pathname === "/raw") {
        const stmt = db.prepare("SELECT id, email FROM users ORDER BY id");
        return json({ plain: await stmt.raw(), named: await stmt.raw({ columnNames: true }) });
      }
      if (url.pathname === "/count") {
        return json({ count: await db.prepare("SELECT count(*) AS n FROM users").first("n") });
      }
    } catch (e) {
      return json({ error: String(e.message), code: e.code ?? null, isError: e instanceof Error }, 500);
    }
    return json({ error: "no route" }, 404);
  },
};
"""

PROBES = r"""
const json = (data, status = 200) => Response.json(data, { status });
const failure = async (f) => {
  try { await f(); return "no error"; }
  catch (e) { return { message: String(e.message), isError: e instanceof Error }; }
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const db = env.DB;
    if (url.pathname === "/types") {
      await db.exec("CREATE TABLE IF NOT EXISTS t (i INTEGER, f REAL, s TEXT, n, b BLOB, yes INTEGER, no INTEGER)");
      await db.prepare("DELETE FROM t").run();
      const bytes = new Uint8Array([0, 1, 2, 254, 255]);
      await db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(9007199254740991, 3.25, "héllo 🚀 \u0000 'quoted'", null, bytes, true, false).run();
      await db.prepare("INSERT INTO t (b, s) VALUES (?2, ?1)").bind("second", bytes.buffer).run();
      const row = await db.prepare("SELECT * FROM t WHERE i IS NOT NULL").first();
      const types = await db.prepare("SELECT typeof(i), typeof(f), typeof(s), typeof(n), typeof(b), typeof(yes) FROM t LIMIT 1").raw();
      const second = await db.prepare("SELECT s, b FROM t WHERE i IS NULL").first();
      const big = await db.prepare("SELECT 1 + 1 AS two, 0.5 AS half, x'00ff' AS hex").first();
      return json({ row, types, second, big });
    }
    if (url.pathname === "/batch") {
      await db.exec("CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0))");
      await db.batch([
        db.prepare("DELETE FROM accounts"),
        db.prepare("INSERT INTO accounts VALUES (?, ?)").bind("alice", 100),
        db.prepare("INSERT INTO accounts VALUES (?, ?)").bind("bob", 0),
      ]);
      const ok = await db.batch([
        db.prepare("UPDATE accounts SET balance = balance - 30 WHERE name = ?").bind("alice"),
        db.prepare("UPDATE accounts SET balance = balance + 30 WHERE name = ?").bind("bob"),
        db.prepare("SELECT name, balance FROM accounts ORDER BY name"),
      ]);
      const failed = await failure(() => db.batch([
        db.prepare("UPDATE accounts SET balance = balance + 500 WHERE name = ?").bind("bob"),
        db.prepare("UPDATE accounts SET balance = balance - 500 WHERE name = ?").bind("alice"),
      ]));
      const after = await db.prepare("SELECT name, balance FROM accounts ORDER BY name").all();
      return json({ ok, failed, after: after.results, empty: await db.batch([]) });
    }
    if (url.pathname === "/errors") {
      return json({
        noTable: await failure(() => db.prepare("SELECT * FROM missing_table").all()),
        syntax: await failure(() => db.prepare("SELEC 1").run()),
        undefinedBind: await failure(() => db.prepare("SELECT ?").bind(undefined)),
        objectBind: await failure(() => db.prepare("SELECT ?").bind({ a: 1 })),
        column: await failure(() => db.prepare("SELECT 1 AS a").first("b")),
        bindings: await failure(() => db.prepare("SELECT ?, ?").bind(1).all()),
        unique: await failure(async () => {
          await db.exec("CREATE TABLE IF NOT EXISTS u (k TEXT UNIQUE)");
          await db.prepare("INSERT INTO u VALUES ('x')").run();
          await db.prepare("INSERT INTO u VALUES ('x')").run();
        }),
        exec: await failure(() => db.exec("SELECT 1;\nSELECT * FROM nowhere;")),
        dump: await failure(() => db.dump()),
        foreignBatch: await failure(() => db.batch([{ sql: "SELECT 1" }])),
      });
    }
    if (url.pathname === "/hostile") {
      const dir = url.searchParams.get("dir");
      return json({
        attach: await failure(() => db.exec(`ATTACH DATABASE '${dir}/stolen.db' AS s`)),
        attachPrepared: await failure(() => db.prepare("ATTACH DATABASE ? AS s").bind(dir + "/p.db").run()),
        vacuumInto: await failure(() => db.prepare(`VACUUM INTO '${dir}/copy.db'`).run()),
        journal: await failure(() => db.prepare("PRAGMA journal_mode = OFF").run()),
        pageCount: await failure(() => db.prepare("PRAGMA max_page_count = 99999999").run()),
        writableSchema: await failure(() => db.prepare("PRAGMA writable_schema = ON").run()),
        loadExtension: await failure(() => db.prepare("SELECT load_extension('/tmp/x.so')").all()),
        begin: await failure(() => db.exec("BEGIN TRANSACTION")),
        pointer: await failure(() => db.prepare("SELECT fts3_tokenizer('simple') AS p").first()),
        pageSize: await failure(() => db.prepare("PRAGMA page_size = 65536").run()),
        tableInfo: await failure(() => db.prepare("PRAGMA table_info(sqlite_master)").all()),
        foreignKeys: (await db.prepare("PRAGMA foreign_keys").first()),
      });
    }
    if (url.pathname === "/runaway") {
      const started = Date.now();
      const runaway = await failure(() => db.prepare(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
      ).all());
      const after = await db.prepare("SELECT 42 AS answer").first("answer");
      return json({ runaway, after, ms: Date.now() - started });
    }
    if (url.pathname === "/fill") {
      await db.exec("CREATE TABLE IF NOT EXISTS blobs (b BLOB)");
      const full = await failure(async () => {
        for (let i = 0; i < 100; i++) await db.prepare("INSERT INTO blobs VALUES (randomblob(50000))").run();
      });
      const count = await db.prepare("SELECT count(*) AS n FROM blobs").first("n");
      const wide = await failure(() => db.prepare("SELECT b FROM blobs").all());
      return json({ full, count, wide, small: await db.prepare("SELECT 1 AS one").first("one") });
    }
    if (url.pathname === "/search") {
      await db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(title, body)");
      await db.batch([
        db.prepare("INSERT INTO docs VALUES (?, ?)").bind("D1", "SQLite at the edge"),
        db.prepare("INSERT INTO docs VALUES (?, ?)").bind("R2", "objects without egress"),
      ]);
      const { results } = await db.prepare("SELECT title FROM docs WHERE docs MATCH ?").bind("sqlite").all();
      return json({ results });
    }
    if (url.pathname === "/session") {
      const session = db.withSession("first-unconstrained");
      await session.prepare("CREATE TABLE IF NOT EXISTS s (v)").run();
      const [r] = await session.batch([session.prepare("SELECT 7 AS v")]);
      return json({ v: r.results[0].v, bookmark: session.getBookmark() });
    }
    return json({ error: "no route" }, 404);
  },
};
"""

COUNTER = r"""
export default {
  async fetch(request, env) {
    await env.STORE.exec("CREATE TABLE IF NOT EXISTS hits (at INTEGER)");
    if (request.method === "POST") await env.STORE.prepare("INSERT INTO hits VALUES (?)").bind(Date.now()).run();
    const n = await env.STORE.prepare("SELECT count(*) AS n FROM hits").first("n");
    return Response.json({ n });
  },
};
"""

HONO = r"""
// A Hono app on D1 as Hono's and D1's docs write one, bundled with the real package.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";

const app = new Hono();

app.get("/posts", async (c) => {
  const { results } = await c.env.DB.prepare(
    "SELECT id, title, tags FROM posts ORDER BY id",
  ).all();
  return c.json(results.map((p) => ({ ...p, tags: JSON.parse(p.tags) })));
});

app.post("/posts", async (c) => {
  const { title, tags } = await c.req.json();
  const { meta } = await c.env.DB.prepare("INSERT INTO posts (title, tags) VALUES (?, ?)")
    .bind(title, JSON.stringify(tags ?? [])).run();
  return c.json({ id: meta.last_row_id }, 201);
});

app.get("/posts/:id", async (c) => {
  const post = await c.env.DB.prepare("SELECT * FROM posts WHERE id = ?").bind(c.req.param("id")).first();
  if (!post) throw new HTTPException(404, { message: "no such post" });
  const comments = await c.env.DB.prepare("SELECT body FROM comments WHERE post_id = ? ORDER BY id")
    .bind(post.id).raw();
  return c.json({ ...post, comments: comments.map(([body]) => body) });
});

app.post("/posts/:id/comments", async (c) => {
  const { bodies } = await c.req.json();
  const id = Number(c.req.param("id"));
  const statements = bodies.map((body) =>
    c.env.DB.prepare("INSERT INTO comments (post_id, body) VALUES (?, ?)").bind(id, body),
  );
  const results = await c.env.DB.batch(statements);
  return c.json({ added: results.reduce((n, r) => n + r.meta.changes, 0) }, 201);
});

app.delete("/posts/:id", async (c) => {
  await c.env.DB.batch([
    c.env.DB.prepare("DELETE FROM comments WHERE post_id = ?").bind(c.req.param("id")),
    c.env.DB.prepare("DELETE FROM posts WHERE id = ?").bind(c.req.param("id")),
  ]);
  return c.body(null, 204);
});

app.onError((err, c) => {
  if (err instanceof HTTPException) return err.getResponse();
  return c.json({ error: err.message }, 500);
});

export default app;
"""

HONO_SCHEMA = """
CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, tags TEXT);
CREATE TABLE comments (
  id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts(id), body TEXT NOT NULL
);
"""
