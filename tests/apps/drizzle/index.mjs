// drizzle-orm on D1, as drizzle's "Drizzle with Cloudflare D1" docs show it: `drizzle(env.DB)`
// with the schema, the query builder, the relational queries, batches and prepared statements.
import { count, desc, eq, like, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from './schema.mjs';

const { users, posts } = schema;

export default {
  async fetch(request, env) {
    const db = drizzle(env.DB, { schema });
    const url = new URL(request.url);
    const path = url.pathname;
    const id = Number(path.split('/')[2]);
    try {
      if (path === '/users' && request.method === 'POST') {
        const [user] = await db.insert(users).values(await request.json()).returning();
        return Response.json(user, { status: 201 });
      }
      if (path === '/users') {
        const q = url.searchParams.get('q');
        const rows = await db
          .select({ id: users.id, name: users.name, role: users.role, prefs: users.prefs })
          .from(users)
          .where(q ? like(users.name, `%${q}%`) : undefined)
          .orderBy(users.id);
        return Response.json(rows);
      }
      if (path.startsWith('/users/') && request.method === 'GET') {
        const user = await db.query.users.findFirst({
          where: eq(users.id, id),
          with: { posts: { orderBy: [desc(posts.id)] } },
        });
        if (!user) return Response.json({ error: 'not found' }, { status: 404 });
        return Response.json({ ...user, createdAtIsDate: user.createdAt instanceof Date });
      }
      if (path.startsWith('/users/') && request.method === 'PATCH') {
        const changed = await db
          .update(users)
          .set(await request.json())
          .where(eq(users.id, id))
          .returning({ id: users.id, role: users.role });
        return Response.json(changed);
      }
      if (path.startsWith('/users/') && request.method === 'DELETE') {
        const result = await db.delete(users).where(eq(users.id, id));
        return Response.json({ changes: result.meta.changes });
      }
      if (path === '/posts' && request.method === 'POST') {
        return Response.json(await db.insert(posts).values(await request.json()).returning(), {
          status: 201,
        });
      }
      if (path === '/posts') {
        const rows = await db
          .select({ title: posts.title, author: users.name, published: posts.published })
          .from(posts)
          .innerJoin(users, eq(posts.authorId, users.id))
          .where(eq(posts.published, url.searchParams.get('published') === 'true'))
          .orderBy(posts.id);
        return Response.json(rows);
      }
      if (path === '/stats') {
        const rows = await db
          .select({ author: users.name, posts: count(posts.id) })
          .from(users)
          .leftJoin(posts, eq(posts.authorId, users.id))
          .groupBy(users.id)
          .orderBy(users.id);
        return Response.json({ rows, users: await db.$count(users) });
      }
      if (path === '/batch') {
        const [added, counted, ran] = await db.batch([
          db.insert(users).values({ name: 'Batch', email: 'batch@example.com' }).returning({ id: users.id }),
          db.select({ n: count() }).from(users),
          db.run(sql`SELECT 1`),
        ]);
        return Response.json({ added, counted, ran: ran.success });
      }
      if (path === '/sql') {
        const prepared = db.select().from(users).where(eq(users.id, sql.placeholder('id'))).prepare();
        return Response.json({
          all: await db.all(sql`SELECT ${users.name} AS name FROM ${users} WHERE ${users.id} = ${1}`),
          get: await db.get(sql`SELECT count(*) AS n FROM users`),
          values: await db.values(sql`SELECT id, name FROM users ORDER BY id LIMIT 2`),
          prepared: (await prepared.get({ id: 2 }))?.name,
        });
      }
    } catch (e) {
      // drizzle's DrizzleQueryError: the query, and D1's error as its cause
      return Response.json(
        { error: e.message, cause: e.cause?.message ?? null, stack: e.stack.split('\n')[0] },
        { status: 500 }
      );
    }
    return new Response('no route', { status: 404 });
  },
};
