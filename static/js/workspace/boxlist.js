// The list of boxes beside the image: pick a box (it becomes selected, and the class keys then
// re-class it), delete one; the list and the SVG say which box is selected.

export class BoxList {
  constructor(list, counter, editor, { onPick, onRemove }) {
    this.list = list;
    this.counter = counter;
    this.editor = editor;
    this.onPick = onPick;
    this.onRemove = onRemove;
  }

  // After any change: the class buttons and their legend follow a picked box; the box just
  // drawn leaves them on the next box's class.
  sync(choices) {
    const editor = this.editor;
    const picked = editor.selectedBox() && !editor.justDrawn;
    if (picked && choices) choices.show(editor.selectedBox().class);
    const legend = document.getElementById("choices-legend");
    if (legend) legend.textContent = picked ? `Class of box ${editor.selected + 1}` : "Class of the next box";
    this.render();
  }

  // Returns what to say, or "" when no box was selected.
  deleteSelected() {
    const box = this.editor.selectedBox();
    if (!box) return "";
    const number = this.editor.selected + 1;
    this.editor.removeSelected();
    return `Box ${number} (${box.class}) deleted.`;
  }

  deselect() {
    if (!this.editor.selectedBox()) return false;
    this.editor.select(-1);
    return true;
  }

  render() {
    const editor = this.editor;
    const count = editor.boxes.length;
    this.counter.textContent = count ? `${count} box${count === 1 ? "" : "es"}` : "none yet";
    this.list.replaceChildren(...editor.boxes.map((box, index) => {
      const li = document.createElement("li");
      li.className = index === editor.selected ? "selected" : "";
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "box-pick";
      pick.setAttribute("aria-pressed", String(index === editor.selected && !editor.justDrawn));
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.setProperty("--c", editor.colorOf(box.class));
      swatch.setAttribute("aria-hidden", "true");
      pick.append(swatch, `${index + 1}. ${box.class}`);
      const where = document.createElement("span");
      where.className = "muted small";
      where.textContent = ` ${box.w}×${box.h} at ${box.x}, ${box.y}`;
      pick.append(where);
      pick.addEventListener("click", () => this.onPick(index));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "box-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Delete box ${index + 1} (${box.class})`);
      remove.addEventListener("click", () => this.onRemove(index));
      li.append(pick, remove);
      return li;
    }));
  }
}
