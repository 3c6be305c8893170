// Kysely on D1 with kysely-d1's dialect, as their docs show: the schema made by Kysely's schema
// builder, typed-style queries (insert ... returning, joins, aggregates, transactions are not
// D1's: a batch is), and D1's errors as Kysely throws them.
import { Kysely, sql } from 'kysely';
import { D1Dialect } from 'kysely-d1';

export default {
  async fetch(request, env) {
    const db = new Kysely({ dialect: new D1Dialect({ database: env.DB }) });
    const url = new URL(request.url);
    try {
      if (url.pathname === '/setup') {
        await db.schema
          .createTable('person')
          .ifNotExists()
          .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
          .addColumn('first_name', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.defaultTo(sql`CURRENT_TIMESTAMP`).notNull())
          .execute();
        await db.schema
          .createTable('pet')
          .ifNotExists()
          .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
          .addColumn('name', 'text', (col) => col.notNull().unique())
          .addColumn('owner_id', 'integer', (col) => col.references('person.id').onDelete('cascade').notNull())
          .addColumn('species', 'text', (col) => col.notNull())
          .execute();
        return Response.json({ ok: true });
      }
      if (url.pathname === '/people' && request.method === 'POST') {
        const { first_name, pets } = await request.json();
        const person = await db
          .insertInto('person')
          .values({ first_name })
          .returning(['id', 'first_name'])
          .executeTakeFirstOrThrow();
        if (pets?.length) {
          await db
            .insertInto('pet')
            .values(pets.map((p) => ({ ...p, owner_id: person.id })))
            .execute();
        }
        return Response.json(person, { status: 201 });
      }
      if (url.pathname === '/pets') {
        const rows = await db
          .selectFrom('pet')
          .innerJoin('person', 'person.id', 'pet.owner_id')
          .select(['pet.name', 'pet.species', 'person.first_name as owner'])
          .where('pet.species', '=', url.searchParams.get('species') ?? 'cat')
          .orderBy('pet.name')
          .execute();
        return Response.json(rows);
      }
      if (url.pathname === '/owners') {
        const rows = await db
          .selectFrom('person')
          .leftJoin('pet', 'pet.owner_id', 'person.id')
          .select(['person.first_name', (eb) => eb.fn.count('pet.id').as('pets')])
          .groupBy('person.id')
          .orderBy('person.id')
          .execute();
        return Response.json(rows);
      }
      if (url.pathname === '/rename' && request.method === 'POST') {
        const { from, to } = await request.json();
        const result = await db.updateTable('pet').set({ name: to }).where('name', '=', from).executeTakeFirst();
        return Response.json({ updated: Number(result.numUpdatedRows) });
      }
    } catch (e) {
      return Response.json({ error: e.message }, { status: 500 });
    }
    return new Response('no route', { status: 404 });
  },
};
