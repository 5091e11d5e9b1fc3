// Entry point of the labeling workspace (templates/labeling/workspace.html).
// The page passes its configuration as JSON data (json_script), never as inline script.
//
//   api.js        REST calls, CSRF, retries with the same Idempotency-Key
//   workspace.js  the loop: show item → answer → submit → show the `next` item; going back
//   keyboard.js   the shortcuts (listed in the help dialog)
//   history.js    the items answered in this tab, to go back to (u / Backspace)
//   choices.js    class buttons (single, multi, class of a box)
//   image.js      image panel (thumbnail first, zoom) · boxes.js  box editor on SVG · boxlist.js
//   audio.js      player · waveform.js  peaks and drawing
//   record.js     records and record pairs with the differences marked
//   progress.js   done / skipped / still needed · messages.js  status line and errors
//   timer.js      active time spent per item
// The reviewer's page (static/js/review/) reuses the panels, choices and keyboard helpers.
import { Api } from "./api.js";
import { bindKeyboard } from "./keyboard.js";
import { Workspace } from "./workspace.js";

const config = JSON.parse(document.getElementById("workspace-config").textContent);
const workspace = new Workspace(config, new Api(config.urls, config.csrfCookieName));
bindKeyboard(workspace);
workspace.start();
