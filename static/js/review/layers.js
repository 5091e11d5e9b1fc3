// Every labeler's boxes over the image, each labeler in their own colour (dashed, under the
// editable final answer), shown or hidden per labeler.

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export function drawAnswerBoxes(svg, answers, { width, height }) {
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const unit = Math.max(width, height) / 600; // about one screen pixel at a typical size
  const groups = answers.filter((a) => Array.isArray(a.value)).map((answer) => {
    const g = el("g", { class: "labeler-boxes", "data-labeler": answer.labeler });
    for (const box of answer.value) {
      const rect = el("rect", { x: box.x, y: box.y, width: box.w, height: box.h });
      rect.style.stroke = answer.color;
      const label = el("text", { x: box.x + 2 * unit, y: box.y + box.h - 3 * unit, class: "labeler-box-label" });
      label.style.fontSize = `${12 * unit}px`;
      label.style.fill = answer.color;
      label.textContent = `${answer.labeler}: ${box.class}`;
      const title = el("title");
      title.textContent = `${answer.labeler}: ${box.class}, ${box.w}×${box.h} px at (${box.x}, ${box.y})`;
      g.append(title, rect, label);
    }
    return g;
  });
  svg.replaceChildren(...groups);
}

export function bindLayerToggles(fieldset, svg, editorLayer) {
  if (!fieldset) return;
  for (const input of fieldset.querySelectorAll("input[data-labeler]")) {
    input.addEventListener("change", () => {
      const group = svg.querySelector(`g[data-labeler="${CSS.escape(input.dataset.labeler)}"]`);
      if (group) group.style.display = input.checked ? "" : "none";
    });
  }
  const final = fieldset.querySelector("#show-final");
  if (final && editorLayer) {
    final.addEventListener("change", () => { editorLayer.style.visibility = final.checked ? "" : "hidden"; });
  }
}
