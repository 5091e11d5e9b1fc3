// Going back: the items answered in this browser tab, newest last, kept in sessionStorage so a
// reload does not lose them. The labeler returns to one (Backspace or u) and changes the answer
// while the item is still theirs; the server keeps the earlier answer as history.

const LIMIT = 50;

export class AnswerHistory {
  constructor(projectId) {
    this.key = `concord.workspace.history.${projectId}`;
    this.entries = [];
    try { this.entries = JSON.parse(sessionStorage.getItem(this.key) || "[]"); } catch (_) { this.entries = []; }
    if (!Array.isArray(this.entries)) this.entries = [];
  }

  get empty() { return this.entries.length === 0; }

  save() {
    try { sessionStorage.setItem(this.key, JSON.stringify(this.entries)); } catch (_) { /* private mode */ }
  }

  push(item) {
    this.entries = this.entries.filter((e) => e.id !== item.id);
    this.entries.push({ id: item.id, external_id: item.external_id });
    this.entries = this.entries.slice(-LIMIT);
    this.save();
  }

  // The entry before the item with this id; the newest one when the id is not in the list (the
  // labeler is on a new item). null when there is nothing earlier.
  before(id) {
    const at = id === null || id === undefined ? -1 : this.entries.findIndex((e) => e.id === id);
    if (at < 0) return this.entries[this.entries.length - 1] || null;
    return at > 0 ? this.entries[at - 1] : null;
  }

  forget(id) {
    this.entries = this.entries.filter((e) => e.id !== id);
    this.save();
  }
}

// An answer in a sentence: a class, classes, "3 boxes", or a transcript's opening words.
export function describeValue(value) {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (Array.isArray(value)) {
    if (value.length && typeof value[0] === "object") return `${value.length} box${value.length === 1 ? "" : "es"}`;
    return value.length ? value.join(", ") : "(no class)";
  }
  const text = String(value);
  return text.length > 60 ? `“${text.slice(0, 57)}…”` : `“${text}”`;
}
