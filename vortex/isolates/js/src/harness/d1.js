// env.DB: a D1 database the deploy declared ("d1_databases"), answered by the server
// (vortex/d1/binding.py), shaped as Workers' D1 binding: prepare/bind/first/all/run/raw,
// batch, exec, withSession. Values are checked here as D1 checks them, in bind(); bytes cross
// as the call's body beside the JSON, and rows come back as arrays beside the column names,
// made into objects here.
import { ErrorCtor, api } from './platform.js';
import { callBinding } from './bindings.js';

function typeError(value) {
  let shown;
  try {
    shown = String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  return new ErrorCtor("D1_TYPE_ERROR: Type '" + typeof value + "' not supported for value '" + shown + "'");
}

// One value as it crosses: JSON, or the place of its bytes among the call's body's chunks.
function encodeValue(value, chunks) {
  if (value === null) return null;
  switch (typeof value) {
    case 'number':
    case 'string':
      return value;
    case 'boolean':
      return value ? 1 : 0;
    case 'object':
      if (api.isBufferSource(value)) {
        const bytes = api.copyBytes(value);
        chunks.push(bytes);
        return { bytes };
      }
      throw typeError(value);
    default:
      throw typeError(value);
  }
}

function statementsPayload(statements, mode) {
  const chunks = [];
  const encoded = statements.map((s) => ({ sql: s.sql, params: s.values.map((v) => encodeValue(v, chunks)), mode }));
  if (chunks.length === 0) return { statements: encoded, body: undefined };
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const body = new Uint8Array(total);
  const offsets = new Map();
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offsets.set(chunk, offset);
    offset += chunk.length;
  }
  for (const statement of encoded) {
    statement.params = statement.params.map((p) =>
      p !== null && typeof p === 'object' ? { blob: [offsets.get(p.bytes), p.bytes.length] } : p,
    );
  }
  return { statements: encoded, body };
}

function objectsOf(answer) {
  return answer.rows.map((row) => {
    const out = {};
    answer.columns.forEach((column, i) => {
      out[column] = row[i];
    });
    return out;
  });
}

function metaOf(answer) {
  const meta = answer.meta;
  return { ...meta, served_by_primary: true, timings: { sql_duration_ms: meta.duration } };
}

function resultOf(answer) {
  return { success: true, meta: metaOf(answer), results: objectsOf(answer) };
}

const attempt = (run) => {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
};

export function makeD1(live, name) {
  const call = (op, args, body) => callBinding(live(), 'd1:' + name, op, args, body);
  // Statements of this database only: batch() takes no other object for one.
  const made = new WeakMap();

  const query = (statements, mode, batch) =>
    attempt(() => {
      const { statements: encoded, body } = statementsPayload(statements, mode);
      return call('query', { statements: encoded, batch }, body).then((answer) => answer.result);
    });

  const statement = (sql, values) => {
    const self = harden({
      bind(...given) {
        // Checked now, as D1 does: a bad value throws here, not when the statement runs.
        given.forEach((value) => encodeValue(value, []));
        return statement(sql, given);
      },
      first(column) {
        return query([made.get(self)], 'first').then(([answer]) => {
          if (answer.rows.length === 0) return null;
          const row = objectsOf(answer)[0];
          if (column === undefined) return row;
          if (!answer.columns.includes(column)) throw new ErrorCtor('D1_COLUMN_NOTFOUND: Column not found (' + column + ')');
          return row[column];
        });
      },
      all() {
        return query([made.get(self)], 'all').then(([answer]) => resultOf(answer));
      },
      run() {
        return query([made.get(self)], 'run').then(([answer]) => resultOf(answer));
      },
      raw(options) {
        return query([made.get(self)], 'raw').then(([answer]) => {
          const rows = answer.rows;
          return options && options.columnNames ? [answer.columns, ...rows] : rows;
        });
      },
    });
    made.set(self, { sql, values });
    return self;
  };

  const prepare = (sql) => {
    if (typeof sql !== 'string') throw new TypeError('D1: prepare() takes the SQL as a string');
    return statement(sql, []);
  };

  const batch = (statements) =>
    attempt(() => {
      if (!Array.isArray(statements)) throw new TypeError('D1: batch() takes an array of prepared statements');
      const inner = statements.map((s) => {
        const found = made.get(s);
        if (found === undefined) throw new TypeError('D1: batch() takes statements prepared by this database');
        return found;
      });
      if (inner.length === 0) return Promise.resolve([]);
      return query(inner, 'all', true).then((answers) => answers.map(resultOf));
    });

  const session = harden({
    prepare,
    batch,
    getBookmark() {
      return null;
    },
  });

  return harden({
    prepare,
    batch,
    exec(sql) {
      return call('exec', { sql: String(sql) }).then((answer) => answer.result);
    },
    // One node, one copy: there are no replicas whose freshness a bookmark would track.
    withSession() {
      return session;
    },
    dump() {
      return Promise.reject(new ErrorCtor('D1_DUMP_ERROR: dump() is not supported by Vortex (docs/d1.md)'));
    },
  });
}
