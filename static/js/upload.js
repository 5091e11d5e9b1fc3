// Drag-and-drop upload to the items API; media imports are jobs whose progress is polled.
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

async function poll(url, target) {
  for (;;) {
    const job = await (await fetch(url, { credentials: "same-origin" })).json();
    target.textContent = `Import job #${job.id}: ${job.status} (${job.progress}%)`;
    if (job.status === "succeeded") {
      const r = job.result;
      target.textContent += ` — ${r.created} created, ${r.skipped_existing} already there, ${r.rejected.length} rejected`;
      for (const bad of r.rejected) line(`${bad.file}: ${bad.reason}`, true);
      return;
    }
    if (job.status === "failed") { target.textContent += ` — ${job.error}`; target.classList.add("error"); return; }
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
  const response = await fetch(zone.dataset.url, { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } });
  const body = await response.json().catch(() => ({}));
  if (response.status === 202) return poll(response.headers.get("Location"), progress);
  if (response.ok) {
    progress.textContent = `Imported: ${body.created} created, ${body.skipped_existing} already there (of ${body.rows} rows).`;
    return;
  }
  const error = body.error || { message: `The server answered ${response.status}.` };
  progress.textContent = error.message;
  progress.classList.add("error");
  for (const reason of (error.fields && error.fields.rows) || []) line(reason, true);
}

zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); send([...e.dataTransfer.files]); });
zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
input.addEventListener("change", () => send([...input.files]));
