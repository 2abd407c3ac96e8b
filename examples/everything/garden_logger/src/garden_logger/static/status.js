// Fills status.html from api/status and refreshes it every REFRESH_MS, without reloading the page.
//
// Text from the add-on (file names are user data) is only ever set with textContent, never
// parsed as HTML. Each cell says what it shows in data-field, and sizes and times keep the JSON's
// value in data-value (bytes) or a <time datetime> (ISO 8601), so tests compare them exactly.
"use strict";

const REFRESH_MS = 5000;
const STATUS_URL = "api/status"; // relative: the page is served under the ingress prefix
const UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];
const LEVEL_WORDS = { OK: "OK", WARN: "Warning", FAIL: "Problem" };

let timer = null; // the next refresh, while one is scheduled
let busy = false; // a refresh is under way

function bytes(value) {
  if (value === null || value === undefined) {
    return "unknown";
  }
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || size >= 100 ? 0 : 1;
  return `${size.toFixed(digits)} ${UNITS[unit]}`;
}

function element(tag, text, attributes = {}) {
  const made = document.createElement(tag);
  if (text !== undefined && text !== null) {
    made.textContent = String(text);
  }
  for (const [name, value] of Object.entries(attributes)) {
    made.setAttribute(name, value);
  }
  return made;
}

// A table cell. data-label repeats its column's heading (the table's data-fields lists the
// columns' fields in order), which narrow screens show beside it, the table laid out as cards.
function cell(table, field, content, value) {
  const index = table.dataset.fields.split(" ").indexOf(field);
  const td = element("td", null, {
    "data-field": field,
    "data-label": index >= 0 ? table.tHead.rows[0].cells[index].textContent : "",
    role: "cell",
  });
  if (value !== undefined) {
    td.setAttribute("data-value", value === null ? "" : String(value));
  }
  if (content instanceof Node) {
    td.append(content);
  } else {
    td.textContent = content === null || content === undefined ? "" : String(content);
  }
  return td;
}

function time(iso) {
  if (!iso) {
    return document.createTextNode("never");
  }
  return element("time", new Date(iso).toLocaleString(), { datetime: iso });
}

// The level as a word (never only a colour) with its mark, then what was found.
function level(levelName, detail) {
  const wrapper = element("span", null, { class: "finding" });
  wrapper.append(
    element("span", LEVEL_WORDS[levelName] || levelName, {
      class: `level level-${String(levelName).toLowerCase()}`,
      "data-level": levelName,
    }),
  );
  if (detail) {
    wrapper.append(element("span", detail, { class: "detail" }));
  }
  return wrapper;
}

function freeSpace(folder) {
  const wrapper = element("span", bytes(folder.free_bytes));
  const low =
    folder.reserve_bytes !== null &&
    folder.free_bytes !== null &&
    folder.free_bytes < folder.reserve_bytes;
  if (low) {
    wrapper.append(element("span", " below the reserve", { class: "level level-warn" }));
  }
  return wrapper;
}

function fillTable(id, rows, makeRow) {
  const table = document.getElementById(id);
  const body = table.tBodies[0];
  const made = rows.map((row) => {
    const tr = element("tr", null, { role: "row" });
    for (const td of makeRow(table, row, tr)) {
      tr.append(td);
    }
    return tr;
  });
  body.replaceChildren(...made);
}

function render(status) {
  const summary = document.getElementById("summary");
  summary.textContent = status.healthy
    ? "Healthy"
    : `Unhealthy: ${status.failures} problem(s)`;
  summary.dataset.level = status.healthy ? "OK" : "FAIL";

  const updated = document.getElementById("updated");
  updated.replaceChildren(document.createTextNode("Checked "), time(status.generated));

  fillTable("folders", status.folders, (table, folder, tr) => {
    tr.dataset.path = folder.path;
    const where = element("span", folder.path, { class: "path" });
    const access = `${folder.access}${folder.in_backup ? ", in the add-on's backup" : ""}`;
    return [
      cell(table, "path", where),
      cell(table, "access", access),
      cell(table, "used_bytes", bytes(folder.used_bytes), folder.used_bytes),
      cell(table, "free_bytes", freeSpace(folder), folder.free_bytes),
      cell(
        table,
        "reserve_bytes",
        folder.reserve_bytes === null ? "none" : bytes(folder.reserve_bytes),
        folder.reserve_bytes,
      ),
      cell(table, "level", level(folder.level, folder.detail)),
    ];
  });

  fillTable("stores", status.stores, (table, store, tr) => {
    tr.dataset.name = store.name;
    return [
      cell(table, "name", store.name),
      cell(table, "file", element("span", store.file, { class: "path" })),
      cell(
        table,
        "size_bytes",
        store.size_bytes === null ? "no file" : bytes(store.size_bytes),
        store.size_bytes,
      ),
      cell(table, "modified", time(store.modified)),
      cell(
        table,
        "schema_version",
        store.schema_version === null ? "none" : store.schema_version,
        store.schema_version,
      ),
      cell(table, "level", level(store.level, store.detail)),
    ];
  });

  const backup = document.getElementById("backup");
  const field = (name) => backup.querySelector(`[data-field="${name}"]`);
  field("data_version").textContent =
    status.data_version === null ? "none recorded yet" : String(status.data_version);
  field("mode").textContent = status.backup.mode;
  field("held_since").replaceChildren(
    status.backup.held_since ? time(status.backup.held_since) : document.createTextNode("none"),
  );
  field("detail").textContent = status.backup.detail;

  fillTable("checks", status.checks, (table, check) => [
    cell(table, "level", level(check.level)),
    cell(table, "text", check.text),
  ]);
}

function showError(message) {
  const error = document.getElementById("error");
  error.textContent = message;
  error.hidden = !message;
}

async function refresh() {
  if (busy) {
    return;
  }
  busy = true;
  window.clearTimeout(timer);
  timer = null;
  try {
    const response = await fetch(STATUS_URL, {
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: AbortSignal.timeout(3 * REFRESH_MS),
    });
    if (!response.ok) {
      throw new Error(`the add-on answered ${response.status} ${response.statusText}`);
    }
    render(await response.json());
    showError("");
  } catch (error) {
    showError(`Could not refresh: ${error.message}. Showing the last status.`);
  } finally {
    busy = false;
    schedule();
  }
}

// Refresh only while the page is visible: a hidden tab costs the add-on nothing.
function schedule() {
  if (timer === null && !busy && document.visibilityState === "visible") {
    timer = window.setTimeout(refresh, REFRESH_MS);
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    refresh();
  } else {
    window.clearTimeout(timer);
    timer = null;
  }
});

refresh();
