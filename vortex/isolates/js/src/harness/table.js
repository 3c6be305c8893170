// console.table's text, as Node draws it: an index column, a column per property of the rows
// that are objects (or the ones `properties` names), and "Values" for rows that are not.

const INDEX = '(index)';
const ITERATION = '(iteration index)';
const VALUES = 'Values';

function rowsOf(data) {
  if (data instanceof Map) {
    return { index: ITERATION, rows: [...data].map(([key, value], i) => [String(i), value, key]) };
  }
  if (data instanceof Set) return { index: ITERATION, rows: [...data].map((value, i) => [String(i), value]) };
  return { index: INDEX, rows: Object.keys(data).map((key) => [key, data[key]]) };
}

function line(left, middle, right, widths) {
  return left + widths.map((w) => '─'.repeat(w + 2)).join(middle) + right;
}

// `shown` is how the console shows one value (strings quoted); a cell is on one line.
export function renderTable(data, properties, shown) {
  const cell = (value) => shown(value).replace(/\s*\n\s*/g, ' ');
  const { index, rows } = rowsOf(data);
  const keyed = data instanceof Map;
  const chosen = Array.isArray(properties) ? properties.map(String) : null;
  const columns = chosen === null ? [] : [...chosen];
  let values = false;
  for (const [, value] of rows) {
    if (value !== null && typeof value === 'object') {
      if (chosen !== null) continue;
      for (const key of Object.keys(value)) if (!columns.includes(key)) columns.push(key);
    } else if (chosen === null) {
      values = true;
    }
  }
  const header = [index, ...(keyed ? ['Key'] : []), ...columns, ...(values ? [VALUES] : [])];
  const body = rows.map(([name, value, key]) => {
    const isObject = value !== null && typeof value === 'object';
    const cells = [name];
    if (keyed) cells.push(cell(key));
    for (const column of columns) {
      cells.push(isObject && Object.prototype.hasOwnProperty.call(value, column) ? cell(value[column]) : '');
    }
    if (values) cells.push(isObject ? '' : cell(value));
    return cells;
  });
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i].length)));
  const row = (cells) => '│' + cells.map((text, i) => ' ' + text.padEnd(widths[i]) + ' ').join('│') + '│';
  return [
    line('┌', '┬', '┐', widths),
    row(header),
    line('├', '┼', '┤', widths),
    ...body.map(row),
    line('└', '┴', '┘', widths),
  ].join('\n');
}
