// Records as a clean table; record pairs side by side with differing fields highlighted.
function cell(text) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null || text === "" ? "—" : String(text);
  return td;
}

export function renderRecord(container, data) {
  const table = document.createElement("table");
  table.className = "table record";
  const isPair = data && typeof data.left === "object" && typeof data.right === "object";
  const head = document.createElement("thead");
  const headRow = document.createElement("tr");
  for (const title of isPair ? ["Field", "Left record", "Right record"] : ["Field", "Value"]) {
    const th = document.createElement("th");
    th.scope = "col"; th.textContent = title;
    headRow.append(th);
  }
  head.append(headRow);
  const body = document.createElement("tbody");
  const fields = isPair ? [...new Set([...Object.keys(data.left), ...Object.keys(data.right)])] : Object.keys(data || {});
  for (const field of fields) {
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row"; th.textContent = field;
    row.append(th);
    if (isPair) {
      const a = data.left[field], b = data.right[field];
      const differ = String(a ?? "").trim().toLowerCase() !== String(b ?? "").trim().toLowerCase();
      const left = cell(a), right = cell(b);
      if (differ) { left.classList.add("differs"); right.classList.add("differs"); row.dataset.differs = "true"; }
      row.append(left, right);
    } else {
      row.append(cell(data[field]));
    }
    body.append(row);
  }
  table.append(head, body);
  container.append(table);
}
