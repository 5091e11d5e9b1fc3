// Project forms: the instructions' live preview (the server renders and sanitizes the markdown,
// exactly as labelers will see it) and "Add a class" (a copy of the last row, emptied).
import { csrf } from "./http.js";

for (const editor of document.querySelectorAll(".md-editor")) {
  const source = editor.querySelector(".md-source");
  const preview = editor.querySelector(".md-preview");
  let timer = 0;
  let sent = 0;
  source.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++sent;
      const body = new URLSearchParams({ text: source.value });
      const response = await fetch(editor.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf() },
        body,
      });
      if (response.ok && mine === sent) preview.innerHTML = await response.text(); // sanitized by the server
    }, 200);
  });
}

const add = document.getElementById("add-class");
if (add) {
  add.addEventListener("click", () => {
    const rows = document.getElementById("class-rows");
    const last = rows.querySelector(".class-row:last-child");
    const row = last.cloneNode(true);
    const n = rows.children.length + 1;
    for (const input of row.querySelectorAll("input")) {
      if (input.type !== "color") input.value = "";
      input.setAttribute("aria-label", input.getAttribute("aria-label").replace(/Class \d+/, `Class ${n}`));
    }
    rows.append(row);
    row.querySelector("input").focus();
  });
}
