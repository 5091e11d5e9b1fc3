// Drag-and-drop upload to the items API. Small record files answer at once (201); media and
// large files start a job (202) whose progress is polled at /api/jobs/{id}/ until it ends.
// When an import ends, the page's figures and its list of imports are fetched again and swapped
// in (no reload). An error is said once: a job's in the list of imports, an upload's here.
const zone = document.getElementById("dropzone");
const input = document.getElementById("file-input");
const statusBox = document.getElementById("upload-status");

function csrf() {
  const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

function line(text, isError = false) {
  const p = document.createElement("p");
  p.className = isError ? "job-line error" : "job-line";
  p.textContent = text;
  statusBox.append(p);
  return p;
}

function summary(r) {
  let text = `${r.created} created, ${r.skipped_existing} already there`;
  if (r.rows !== undefined) text += ` (of ${r.rows} rows)`;
  if (r.duplicates_in_file_count) text += `, ${r.duplicates_in_file_count} repeated in the file`;
  if (r.rejected_count) text += `, ${r.rejected_count} rejected`;
  return text;
}

// The counts, histograms, outliers and recent imports, as the server renders them now.
async function refreshFigures() {
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["data-summary", "data-live"]) {
      const now = document.getElementById(id);
      const next = fresh.getElementById(id);
      if (now && next) now.replaceWith(document.adoptNode(next));
    }
  } catch (_) {
    // The figures are a convenience: a reload shows them.
  }
}

async function poll(url, target) {
  const bar = document.createElement("progress");
  bar.className = "job-progress";
  bar.max = 100;
  target.after(bar);
  for (;;) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const job = await response.json();
    bar.value = job.progress;
    target.textContent = `Import job #${job.id}: ${job.status} (${job.progress}%)`;
    if (job.status === "succeeded") {
      bar.remove();
      target.textContent += ` — ${summary(job.result)}.`;
      for (const bad of job.result.rejected || []) line(`${bad.file}: ${bad.reason}`, true);
      await refreshFigures();
      return;
    }
    if (job.status === "failed") {
      bar.remove();
      // The reason is shown once, in the list of recent imports just refreshed.
      target.textContent = `Import job #${job.id} failed: the reason is under “Recent imports”.`;
      target.classList.add("error");
      await refreshFigures();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function send(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("file", file);
  const columns = document.getElementById("metadata-columns");
  if (columns && columns.value.trim()) form.append("metadata_columns", columns.value.trim());
  const progress = line(`Uploading ${files.length} file(s)…`);
  let response;
  try {
    response = await fetch(zone.dataset.url, {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
    });
  } catch (err) {
    progress.textContent = `The upload did not reach the server (${err.message}).`;
    progress.classList.add("error");
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (response.status === 202) return poll(response.headers.get("Location"), progress);
  if (response.ok) {
    progress.textContent = `Imported: ${summary(body)}.`;
    await refreshFigures();
    return;
  }
  const error = body.error || { message: `The server answered ${response.status}.` };
  progress.textContent = error.message;
  progress.classList.add("error");
  const fields = error.fields || {};
  const said = new Set([error.message]);
  for (const reason of [...(fields.rows || []), ...(fields.file || [])].map(String)) {
    if (said.has(reason) || error.message.includes(reason)) continue; // each reason once
    said.add(reason);
    line(reason, true);
  }
}

zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); send([...e.dataTransfer.files]); });
zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
input.addEventListener("change", () => { send([...input.files]); input.value = ""; });
zone.dataset.ready = "true"; // files chosen before this line would go unheard (tests wait for it)
