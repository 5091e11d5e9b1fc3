// The keyboard map of the workspace (the help dialog in workspace.html lists the same keys).
//
// Single keys act only when the cursor is not in a text box, so typing a transcript or a comment
// never fires a shortcut. In a text box: Enter submits (Shift+Enter is a new line in the
// transcript), Ctrl+Enter submits from anywhere, Ctrl+Space plays/pauses, Ctrl+←/→ seeks, and
// Esc leaves the box so that the single keys work again. Right after typing, a bare `s` does not
// open Skip (Shift+S does): a word typed on after Esc must not skip the item.
// Backspace or u goes back to the previous item to change its answer; Esc returns.

const TEXT_INPUTS = new Set(["text", "search", "email", "number", "url", "tel", "password"]);

export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.closest("textarea, select, [contenteditable=''], [contenteditable='true']")) return true;
  return target.tagName === "INPUT" && TEXT_INPUTS.has(target.type);
}

// Controls whose own Enter/Space must keep working (links, toolbar and list buttons, checkboxes).
function isNativeControl(target) {
  if (!(target instanceof Element)) return false;
  if (target.closest(".choice, #submit")) return false;
  return Boolean(target.closest("a[href], button, summary, input[type=checkbox], select"));
}

export function bindKeyboard(ws) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const handled = handle(ws, event);
    if (handled) event.preventDefault();
  });
}

function handle(ws, event) {
  const { key, target } = event;
  const ctrl = event.ctrlKey || event.metaKey;
  const typing = isTyping(target);

  if (ws.helpOpen) {
    if (key === "?") { ws.toggleHelp(false); return true; }
    return false; // the dialog handles Esc and Tab itself
  }

  if (key === "Enter") {
    if (ctrl) { ws.submit(); return true; }
    if (ws.skipOpen && !isNativeControl(target)) { ws.confirmSkip(); return true; }
    if (event.shiftKey && target === ws.transcript) return false; // a new line
    if (isNativeControl(target) || event.altKey) return false;
    ws.submit();
    return true;
  }

  if (key === "Escape") {
    if (ws.skipOpen) { ws.closeSkip(); return true; }
    if (typing) { target.blur(); ws.focusStart(); return true; }
    if (ws.deselect()) return true;
    if (ws.revisit) { ws.returnToCurrent(); return true; }
    return false;
  }

  if (ws.audio) {
    if (key === " " && (ctrl || (!typing && !isNativeControl(target)))) { ws.audio.toggle(); return true; }
    if (typing && event.ctrlKey && !event.shiftKey && (key === "ArrowLeft" || key === "ArrowRight")) {
      ws.audio.seek(key === "ArrowLeft" ? -2 : 2);
      return true;
    }
  }

  if (typing || ctrl) return false;

  if (ws.skipOpen) {
    const index = Number(key);
    if (/^[1-9]$/.test(key) && ws.chooseSkipReason(index - 1)) return true;
    if (key === "s") { ws.closeSkip(); return true; }
  }

  if (key === "?") { ws.toggleHelp(true); return true; }

  const lower = key.toLowerCase();
  const editor = ws.image && ws.image.editor;
  const boxSelected = Boolean(editor && editor.selectedBox());
  if (!event.altKey && !ws.skipOpen && (lower === "u" || (key === "Backspace" && !boxSelected))) {
    ws.goBack();
    return true;
  }

  if (!ws.item) return false; // "All done": nothing to label

  if (!event.altKey && lower === "s" && !ws.classKeys.has("s")) {
    if (ws.typedRecently() && !event.shiftKey) {
      ws.say("You were typing: press Shift+S to skip this item.");
      return true;
    }
    ws.openSkip();
    return true;
  }
  if (!event.altKey && lower === "c" && !ws.classKeys.has("c")) { ws.comment.focus(); return true; }
  if (!event.altKey && lower === "t" && ws.transcript) { ws.transcript.focus(); return true; }

  if (ws.image) {
    if (key === "+" || key === "=") { ws.image.zoomBy("in"); return true; }
    if (key === "-" || key === "_") { ws.image.zoomBy("out"); return true; }
    if (lower === "f" && !event.altKey) { ws.image.zoomBy("fit"); return true; }
  }

  if (boxSelected) {
    if (key === "Delete" || key === "Backspace") return ws.deleteSelectedBox();
    const step = event.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[key]) return editor.nudge(...moves[key], event.altKey);
  }

  if (ws.audio && !isNativeControl(target)) {
    const step = event.shiftKey ? 5 : 2;
    if (key === "ArrowLeft") { ws.audio.seek(-step); return true; }
    if (key === "ArrowRight") { ws.audio.seek(step); return true; }
    if (key === "Home") { ws.audio.seekTo(0); return true; }
    if (key === "[" || key === "]") { ws.say(`Speed ${ws.audio.speedStep(key === "[" ? -1 : 1)}×`); return true; }
  }

  if (event.altKey) return false;
  const labelClass = ws.choices && ws.choices.classForKey(event);
  if (labelClass) { ws.choices.choose(labelClass.name); return true; }
  return false;
}
