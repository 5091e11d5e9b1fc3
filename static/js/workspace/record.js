// Records as a clean table of fields; record pairs ({"left": {...}, "right": {...}}) side by side,
// with the fields that differ highlighted and, inside them, the words that differ marked.
// Everything is inserted as text (textContent), never as HTML.

const MAX_DIFF_TOKENS = 200;

const normalized = (value) => String(value ?? "").trim().replace(/\s+/g, " ").toLowerCase();

function display(value) {
  if (value === undefined || value === null || value === "") return null;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

// Words and the separators between them, so a diff marks "Robert" against "Bob", not letters.
const tokens = (text) => text.split(/([^\p{L}\p{N}]+)/u).filter((t) => t !== "");

// Which tokens of a and b are not in their longest common subsequence (case-insensitive).
export function tokenDiff(a, b) {
  const x = tokens(a), y = tokens(b);
  if (x.length > MAX_DIFF_TOKENS || y.length > MAX_DIFF_TOKENS) {
    return [x.map((t) => [t, true]), y.map((t) => [t, true])];
  }
  const same = (i, j) => x[i].toLowerCase() === y[j].toLowerCase();
  const table = Array.from({ length: x.length + 1 }, () => new Uint16Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i -= 1) {
    for (let j = y.length - 1; j >= 0; j -= 1) {
      table[i][j] = same(i, j) ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const left = [], right = [];
  let i = 0, j = 0;
  while (i < x.length && j < y.length) {
    if (same(i, j)) { left.push([x[i], false]); right.push([y[j], false]); i += 1; j += 1; }
    else if (table[i + 1][j] >= table[i][j + 1]) { left.push([x[i], true]); i += 1; }
    else { right.push([y[j], true]); j += 1; }
  }
  while (i < x.length) { left.push([x[i], true]); i += 1; }
  while (j < y.length) { right.push([y[j], true]); j += 1; }
  return [left, right];
}

function cell(value, marks) {
  const td = document.createElement("td");
  const text = display(value);
  if (text === null) {
    td.className = "empty";
    td.textContent = "—";
    td.setAttribute("aria-label", "empty");
    return td;
  }
  if (!marks) {
    td.textContent = text;
    return td;
  }
  for (const [token, changed] of marks) {
    if (changed && token.trim()) {
      const mark = document.createElement("mark");
      mark.textContent = token;
      td.append(mark);
    } else {
      td.append(token);
    }
  }
  return td;
}

function headerRow(titles) {
  const row = document.createElement("tr");
  for (const title of titles) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = title;
    row.append(th);
  }
  const head = document.createElement("thead");
  head.append(row);
  return head;
}

function fieldHeader(name, differs) {
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = name;
  if (differs) {
    const flag = document.createElement("span");
    flag.className = "differs-flag";
    flag.textContent = "differs";
    th.append(" ", flag);
  }
  return th;
}

export const isPair = (data) =>
  Boolean(data) && typeof data.left === "object" && data.left !== null
  && typeof data.right === "object" && data.right !== null;

export class RecordPanel {
  constructor() {
    this.container = document.getElementById("record");
  }

  show(item) {
    const data = item.data || {};
    this.container.replaceChildren(isPair(data) ? this.pair(data) : this.single(data));
  }

  single(data) {
    const table = document.createElement("table");
    table.className = "table record";
    table.append(headerRow(["Field", "Value"]));
    const body = document.createElement("tbody");
    for (const [name, value] of Object.entries(data)) {
      const row = document.createElement("tr");
      row.append(fieldHeader(name, false), cell(value));
      body.append(row);
    }
    if (!body.children.length) {
      const row = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 2;
      td.className = "empty";
      td.textContent = "This record has no fields.";
      row.append(td);
      body.append(row);
    }
    table.append(body);
    return table;
  }

  pair(data) {
    const wrapper = document.createElement("div");
    const fields = [...new Set([...Object.keys(data.left), ...Object.keys(data.right)])];
    const table = document.createElement("table");
    table.className = "table record pair";
    table.append(headerRow(["Field", "Left record", "Right record"]));
    const body = document.createElement("tbody");
    let differing = 0;
    for (const field of fields) {
      const a = data.left[field], b = data.right[field];
      const differs = normalized(display(a)) !== normalized(display(b));
      const row = document.createElement("tr");
      if (differs) {
        differing += 1;
        row.className = "differs";
        row.dataset.differs = "true";
        const [left, right] = display(a) !== null && display(b) !== null ? tokenDiff(display(a), display(b)) : [null, null];
        row.append(fieldHeader(field, true), cell(a, left), cell(b, right));
      } else {
        row.append(fieldHeader(field, false), cell(a), cell(b));
      }
      body.append(row);
    }
    table.append(body);
    const summary = document.createElement("p");
    summary.className = "pair-summary";
    summary.textContent = differing
      ? `${differing} of ${fields.length} fields differ (highlighted; the differing words are marked).`
      : `All ${fields.length} fields are the same (ignoring case and spacing).`;
    wrapper.append(summary, table);
    return wrapper;
  }

  clear() {
    this.container.replaceChildren();
  }
}
