// The Skip panel: a reason (number keys or arrows), Enter confirms, Esc cancels.

export class SkipPanel {
  constructor(panel, button) {
    this.panel = panel;
    this.button = button;
  }

  get isOpen() { return !this.panel.hidden; }

  get radios() { return [...this.panel.querySelectorAll("input[type=radio]")]; }

  get reason() { return (this.radios.find((r) => r.checked) || {}).value || ""; }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    (this.radios.find((r) => r.checked) || this.radios[0]).focus();
  }

  // Returns whether it was open.
  close() {
    if (this.panel.hidden) return false;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    return true;
  }

  choose(index) {
    const radio = this.radios[index];
    if (!radio) return false;
    radio.checked = true;
    radio.focus();
    return true;
  }
}
