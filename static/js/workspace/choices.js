// The class buttons. Three modes:
//   single  (classes, rating): one class; choosing another replaces it;
//   multi   (multi_classes):   a set; choosing a class again removes it;
//   box     (boxes):           the class of the selected box and of the next box drawn.

export class Choices {
  constructor(classes, mode, onChoose) {
    this.classes = classes;
    this.mode = mode;
    this.onChoose = onChoose;
    this.chosen = new Set();
    this.buttons = [...document.querySelectorAll(".choice[data-class]")];
    for (const button of this.buttons) {
      // The mouse does not move the focus: Enter keeps submitting after a click.
      button.addEventListener("mousedown", (event) => event.preventDefault());
      button.addEventListener("click", () => this.choose(button.dataset.class));
    }
    if (mode === "box" && classes.length) this.chosen = new Set([classes[0].name]);
    this.render();
  }

  // The class for a key press: the key itself ("1", "0", "y"), also from the numeric keypad
  // or from a layout where digits need Shift (event.code is the physical key).
  classForKey(event) {
    const key = event.key.length === 1 ? event.key.toLowerCase() : "";
    const digit = /^(Digit|Numpad)(\d)$/.exec(event.code || "");
    return this.classes.find((c) => c.key && (c.key === key || (digit && c.key === digit[2]))) || null;
  }

  choose(name) {
    if (this.mode === "multi") {
      if (this.chosen.has(name)) this.chosen.delete(name); else this.chosen.add(name);
    } else {
      this.chosen = new Set([name]);
    }
    this.render();
    if (this.onChoose) this.onChoose(name);
  }

  // Show a class as chosen without side effects (the class of the box just selected).
  show(name) {
    this.chosen = new Set(name ? [name] : []);
    this.render();
  }

  reset() {
    if (this.mode !== "box") this.chosen = new Set();
    this.markSuggested(null);
    this.render();
  }

  // Start from an answer: an earlier one, or the model's suggestion (not in box mode, where
  // the boxes carry their classes).
  set(value) {
    if (this.mode === "box") return;
    const names = Array.isArray(value) ? value : value ? [value] : [];
    this.chosen = new Set(names.filter((name) => this.classes.some((c) => c.name === name)));
    this.render();
  }

  // Tag the buttons of the classes the model suggested.
  markSuggested(value) {
    const names = new Set(Array.isArray(value) ? value : value ? [value] : []);
    for (const button of this.buttons) button.classList.toggle("suggested", names.has(button.dataset.class));
  }

  current() {
    return this.chosen.size ? [...this.chosen][0] : null;
  }

  value() {
    if (this.mode === "multi") return this.classes.map((c) => c.name).filter((n) => this.chosen.has(n));
    return this.current();
  }

  render() {
    for (const button of this.buttons) {
      button.setAttribute("aria-pressed", String(this.chosen.has(button.dataset.class)));
    }
  }

  setDisabled(disabled) {
    for (const button of this.buttons) button.disabled = disabled;
  }
}
