// The reviewer's item page (templates/consistency/review_item.html). The item is drawn by the
// labeling workspace's own renderers (record pairs with their differences marked, the waveform
// player, the image with boxes); every labeler's boxes are drawn in their colour; the final answer
// starts from the consensus (or the resolution) so the reviewer edits instead of retyping.
// Keys: r resolve · m more labels · x lacks information · e example · j/k next/previous ·
// c comment · the class keys choose the final class · Space/←/→ play and seek audio.
import { AudioPanel } from "../workspace/audio.js";
import { Choices } from "../workspace/choices.js";
import { ImagePanel } from "../workspace/image.js";
import { isTyping } from "../workspace/keyboard.js";
import { RecordPanel, tokenDiff } from "../workspace/record.js";
import { bindLayerToggles, drawAnswerBoxes } from "./layers.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("review-config").textContent);
const form = $("review-form");
const errorLine = $("review-error");
const kind = config.labelKind;

function showError(message) {
  // The renderers' messages speak to labelers ("Skip it…"); a reviewer just needs what happened.
  errorLine.textContent = message.replace(/ (Skip it|Check your connection, or skip it).*$/, "");
  errorLine.hidden = false;
}

const colorOf = (name) => (config.classes.find((c) => c.name === name) || { color: "#fab005" }).color;
let image = null;
let audio = null;
const choices = config.classes.length && kind !== "transcription"
  ? new Choices(config.classes, config.choiceMode, (name) => {
    errorLine.hidden = true;
    const editor = image && image.editor;
    if (editor) editor.setClassOfSelected(name);
  })
  : null;

if (config.dataType === "record") {
  new RecordPanel().show(config.item);
} else if (config.dataType === "audio") {
  audio = new AudioPanel({ onError: showError, onLoaded: () => {} });
  audio.show(config.item);
} else {
  const answersLayer = $("answers-layer");
  image = new ImagePanel({
    withBoxes: kind === "boxes",
    colorOf,
    currentClass: () => (choices ? choices.current() : ""),
    onBoxesChange: () => {},
    onError: showError,
    onLoaded: () => {
      if (answersLayer && image.natural) drawAnswerBoxes(answersLayer, config.answers, image.natural);
    },
  });
  image.show(config.item, { boxes: kind === "boxes" ? config.start || [] : null });
  bindLayerToggles($("labeler-layers"), answersLayer, $("box-layer"));
}
if (choices && config.start !== null && config.start !== undefined) choices.set(config.start);

// Each labeler's colour beside their name; in transcripts, the words that differ from the consensus.
const rows = document.querySelectorAll(".answers tbody tr");
config.answers.forEach((answer, index) => {
  const row = rows[index];
  if (!row) return;
  const swatch = row.querySelector(".labeler-swatch");
  if (swatch) swatch.style.setProperty("--c", answer.color);
  if (kind === "transcription" && typeof answer.value === "string" && typeof config.consensus === "string") {
    const [marks] = tokenDiff(answer.value, config.consensus);
    const cell = row.querySelector(".answer-cell");
    cell.replaceChildren(...marks.map(([token, changed]) => {
      if (!changed || !token.trim()) return document.createTextNode(token);
      const mark = document.createElement("mark");
      mark.textContent = token;
      return mark;
    }));
  }
});

// The final answer travels in hidden fields written when the form is sent.
form.addEventListener("submit", (event) => {
  if (!event.submitter || event.submitter.value !== "resolve" || kind === "transcription") return;
  const fields = $("value-fields");
  const hidden = (value) => {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "value";
    input.value = value;
    return input;
  };
  if (kind === "boxes") {
    fields.replaceChildren(hidden(JSON.stringify(image.editor.value())));
  } else if (kind === "multi_classes") {
    fields.replaceChildren(...choices.value().map(hidden));
  } else {
    const value = choices ? choices.current() : null;
    if (!value) {
      event.preventDefault();
      showError("Choose the final answer first (its number key), then resolve.");
      return;
    }
    fields.replaceChildren(hidden(value));
  }
});

const act = (action) => form.requestSubmit(form.querySelector(`button[name=action][value=${action}]`));
const ACTIONS = { r: "resolve", m: "send_back", x: "lacks_information", e: "tag_example" };

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.isComposing) return;
  const { key, target } = event;
  const ctrl = event.ctrlKey || event.metaKey;
  const typing = isTyping(target);
  const handled = (() => {
    if (key === "Enter" && ctrl && (target === $("value") || !typing)) { act("resolve"); return true; }
    if (key === "Escape" && typing) { target.blur(); return true; }
    if (typing || ctrl || event.altKey) return false;
    const native = target instanceof Element && target.closest("a[href], button, select, input, summary");
    if (native && (key === "Enter" || key === " ")) return false;
    const lower = key.toLowerCase();
    const nav = $("review-nav").dataset;
    if (lower === "j" || lower === "k") {
      const url = lower === "j" ? nav.next : nav.prev;
      if (url) window.location.href = url;
      return Boolean(url);
    }
    if (ACTIONS[lower]) { act(ACTIONS[lower]); return true; }
    if (lower === "c") { $("comment-text").focus(); return true; }
    if (audio) {
      if (key === " ") { audio.toggle(); return true; }
      if (key === "ArrowLeft" || key === "ArrowRight") { audio.seek(key === "ArrowLeft" ? -2 : 2); return true; }
    }
    const editor = image && image.editor;
    if (editor && editor.selectedBox()) {
      if (key === "Delete" || key === "Backspace") return editor.removeSelected();
      if (key === "Escape") { editor.select(-1); return true; }
    }
    const labelClass = choices && choices.classForKey(event);
    if (labelClass) { choices.choose(labelClass.name); return true; }
    return false;
  })();
  if (handled) event.preventDefault();
});

document.body.dataset.ready = "true"; // the keys work from here on (tests wait for it)
