// The mockmx inspector: reads the control API (/_mockmx/...) and stays live through its event stream.
// No framework and no build step: the page and this module are all there is. Data only ever goes into the page
// as text (textContent), never as markup.

const MAX_ROWS = 2000; // requests kept in the page; the server's journal keeps its own (bounded) history
const state = { info: null, requests: [], lastId: 0, selected: null, active: "requests" };

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${path}`);
  return body;
}

const json = (value) => JSON.stringify(value, null, 2);
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false }) + "." + String(ms % 1000).padStart(3, "0");
const short = (text, length = 90) => (text.length > length ? text.slice(0, length - 1) + "…" : text);
const table = (label, head, rows) =>
  el("table", { "aria-label": label }, el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
const empty = (text) => el("p", { class: "empty" }, text);

// -- views ------------------------------------------------------------------------------------------------------

const tabs = () => [...document.querySelectorAll("[role=tab]")].filter((tab) => !tab.hidden);

function show(view, focus = false) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const selected = tab.getAttribute("aria-controls") === view;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  state.active = view;
  refresh(view);
}

function setCount(view, count) {
  $(`count-${view}`).textContent = count ? String(count) : "";
}

// -- requests ---------------------------------------------------------------------------------------------------

async function loadRequests() {
  const body = await api(`requests?bodies=false&after=${state.lastId}`);
  if (body.requests.length) {
    state.requests.push(...body.requests);
    state.lastId = body.requests.at(-1).id;
    if (state.requests.length > MAX_ROWS) state.requests.splice(0, state.requests.length - MAX_ROWS);
  }
  const dropped = $("dropped");
  dropped.hidden = !body.dropped;
  dropped.textContent = `${body.dropped} older requests dropped (the journal keeps ${body.limit}).`;
  renderRequests();
}

function wanted() {
  const form = new FormData($("filters"));
  const text = String(form.get("text") || "").toLowerCase();
  const user = String(form.get("user") || "").toLowerCase();
  const method = form.get("method");
  const status = form.get("status");
  return (entry) =>
    (!method || entry.method === method) &&
    (!text || entry.path.toLowerCase().includes(text) || (entry.route || "").toLowerCase().includes(text)) &&
    (!user || (entry.user_id || "").toLowerCase().includes(user)) &&
    (!status || (status === "ok" ? entry.status < 400 : status === "client" ? entry.status >= 400 && entry.status < 500 : entry.status >= 500));
}

function renderRequests() {
  const rows = state.requests.filter(wanted()).reverse(); // newest first
  $("request-rows").replaceChildren(...rows.map(requestRow));
  $("requests-empty").hidden = state.requests.length > 0;
  setCount("requests", state.requests.length);
}

function requestRow(entry) {
  const selected = entry.id === state.selected;
  return el("tr", {
      tabindex: selected ? 0 : -1, "aria-selected": String(selected), "data-id": entry.id,
      "aria-label": `${entry.method} ${entry.path} ${entry.status}`,
      onclick: () => select(entry.id), onkeydown: (event) => event.key === "Enter" && select(entry.id),
    },
    el("td", { class: "muted" }, entry.id),
    el("td", { class: "muted" }, clock(entry.time)),
    el("td", { class: `m-${entry.method}` }, entry.method),
    el("td", { class: "path", title: entry.route || "" }, entry.path, entry.fault ? el("span", { class: "fault" }, ` fault #${entry.fault}`) : null),
    el("td", { class: `s${String(entry.status)[0]}` }, entry.status),
    el("td", { class: "muted" }, entry.duration_ms === null ? "" : entry.duration_ms.toFixed(1)),
    el("td", {}, entry.user_id ? entry.user_id + (entry.device_id ? ` · ${entry.device_id}` : "") : ""),
  );
}

async function select(id, focusRow = true) {
  state.selected = id;
  renderRequests();
  const row = document.querySelector(`#request-rows tr[data-id="${id}"]`);
  if (row && focusRow) row.focus();
  const detail = $("detail");
  try {
    const entry = await api(`requests/${id}`);
    const query = Object.keys(entry.query).length ? "?" + new URLSearchParams(entry.query) : "";
    detail.replaceChildren(
      el("h2", {}, `${entry.method} ${entry.path}${query}`),
      el("dl", {},
        el("dt", {}, "status"), el("dd", { class: `s${String(entry.status)[0]}` }, entry.status),
        el("dt", {}, "route"), el("dd", {}, entry.route || "(none)"),
        el("dt", {}, "user"), el("dd", {}, entry.user_id ? `${entry.user_id} (${entry.device_id})` : "(none)"),
        el("dt", {}, "time"), el("dd", {}, `${clock(entry.time)}, took ${entry.duration_ms} ms`),
        entry.fault ? [el("dt", {}, "fault rule"), el("dd", {}, `#${entry.fault}`)] : null),
      el("section", { "aria-label": "Request body" }, el("h3", {}, "Request body"), body(entry.request_body)),
      el("section", { "aria-label": "Response body" }, el("h3", {}, "Response body"), body(entry.response_body)),
    );
  } catch (error) {
    detail.replaceChildren(empty(`This request is no longer in the journal (${error.message}).`));
  }
}

const body = (value) => (value === null || value === undefined ? el("p", { class: "muted" }, "(empty)") : el("pre", {}, json(value)));

function step(by) {
  const ids = [...document.querySelectorAll("#request-rows tr")].map((row) => Number(row.dataset.id));
  if (!ids.length) return;
  const at = ids.indexOf(state.selected);
  select(ids[Math.min(ids.length - 1, Math.max(0, at === -1 ? 0 : at + by))]);
}

// -- rooms, to-device, push, faults, script, replay --------------------------------------------------------------

function eventText(event) {
  const content = event.content || {};
  if (event.type === "m.room.message") return content.body ?? json(content);
  if (event.type === "m.room.member") return `${event.state_key}: ${content.membership}`;
  return short(JSON.stringify(content));
}

async function loadRooms() {
  const { rooms } = await api("rooms");
  setCount("rooms", rooms.length);
  $("rooms").replaceChildren(el("div", { class: "cards" }, rooms.length ? rooms.map((room) =>
    el("article", { class: "card", "aria-label": `Room ${room.name || room.room_id}` },
      el("h2", {}, room.name || room.room_id, el("span", { class: "tag" }, `${room.events} events`)),
      el("p", { class: "muted" }, [room.room_id, room.alias].filter(Boolean).join(" · ")),
      el("h3", {}, "Members"),
      table("Members", ["user", "membership"], Object.entries(room.members).map(([user, membership]) =>
        el("tr", {}, el("td", {}, user), el("td", {}, membership)))),
      el("h3", {}, "Timeline (latest)"),
      table("Timeline", ["time", "sender", "type", "content"], room.timeline.slice().reverse().map((event) =>
        el("tr", { title: event.event_id }, el("td", { class: "muted" }, clock(event.origin_server_ts)),
          el("td", {}, event.sender), el("td", {}, event.type), el("td", {}, eventText(event))))),
      el("details", {}, el("summary", {}, `State (${room.state.length} events)`),
        table("State", ["type", "state key", "content"], room.state.map((event) =>
          el("tr", {}, el("td", {}, event.type), el("td", {}, event.state_key), el("td", {}, short(JSON.stringify(event.content), 160)))))),
    )) : empty("No rooms.")));
}

async function loadToDevice() {
  const { devices } = await api("to_device");
  setCount("to-device", devices.reduce((n, device) => n + device.pending.length, 0));
  const messages = (list) => table("Messages", ["#", "sender", "type", "content"], list.map((m) =>
    el("tr", {}, el("td", { class: "muted" }, m.pos), el("td", {}, m.sender), el("td", {}, m.type), el("td", {}, short(JSON.stringify(m.content), 160)))));
  $("to-device").replaceChildren(el("div", { class: "cards" }, devices.length ? devices.map((device) =>
    el("article", { class: "card", "aria-label": `Device ${device.user_id} ${device.device_id}` },
      el("h2", {}, `${device.user_id} · ${device.device_id}`),
      el("h3", {}, `Pending (${device.pending.length})`), device.pending.length ? messages(device.pending) : empty("Nothing waits for a sync."),
      el("h3", {}, `Delivered (${device.delivered.length})`), device.delivered.length ? messages(device.delivered) : empty("Nothing delivered yet."),
    )) : empty("No to-device messages yet.")));
}

async function loadPush() {
  const [{ notifications }, { attempts }] = await Promise.all([api("notifications"), api("push_attempts")]);
  setCount("push", notifications.length);
  $("push").replaceChildren(el("div", { class: "cards" },
    el("article", { class: "card", "aria-label": "Notifications received" },
      el("h2", {}, "Received by the gateway (/_matrix/push/v1/notify)"),
      notifications.length ? table("Notifications", ["#", "time", "event", "devices", "counts", "retries"],
        notifications.slice().reverse().map((entry) => {
          const n = entry.notification;
          return el("tr", {}, el("td", { class: "muted" }, entry.seq), el("td", { class: "muted" }, clock(entry.received_ts)),
            el("td", {}, n.type ? `${n.sender}: ${n.content?.body ?? n.type}` : "(badge only)"),
            el("td", {}, (n.devices || []).map((d) => d.pushkey).join(", ")),
            el("td", {}, JSON.stringify(n.counts || {})),
            el("td", {}, entry.retries, entry.rejected.length ? el("span", { class: "tag bad" }, "rejected") : null));
        })) : empty("No notifications yet.")),
    el("article", { class: "card", "aria-label": "Pushes sent" },
      el("h2", {}, "Sent by the mock's pushers"),
      attempts.length ? table("Push attempts", ["time", "pushkey", "event", "attempt", "outcome"],
        attempts.slice().reverse().map((a) => el("tr", {}, el("td", { class: "muted" }, clock(a.at)), el("td", {}, a.pushkey),
          el("td", {}, a.event_id || "(badge)"), el("td", {}, a.attempt),
          el("td", {}, el("span", { class: `tag ${a.outcome === "sent" ? "good" : "bad"}` }, a.outcome))))) : empty("No pushes sent yet.")),
  ));
}

async function loadFaults() {
  const { faults } = await api("faults");
  setCount("faults", faults.length);
  const form = el("form", { "aria-label": "Add a fault rule", onsubmit: async (event) => {
      event.preventDefault();
      try { await api("faults", { method: "POST", body: new FormData(event.target).get("rule") }); }
      catch (error) { alert(error.message); }
    } },
    el("label", {}, "New rule (a scenario faults entry, YAML)", el("br"),
      el("textarea", { name: "rule", rows: 3, cols: 50 }, "path: /_matrix/client/*/sync\nstatus: 502\ntimes: 1")),
    el("br"), el("button", { type: "submit" }, "Add rule"));
  $("faults").replaceChildren(el("div", { class: "cards" }, el("article", { class: "card", "aria-label": "Fault rules" },
    el("h2", {}, "Fault rules"),
    faults.length ? table("Fault rules", ["#", "method", "path", "does", "matched", "applied", ""], faults.map((rule) =>
      el("tr", {}, el("td", {}, rule.id), el("td", {}, rule.method || "any"), el("td", {}, rule.path),
        el("td", {}, [rule.delay_ms ? `delay ${rule.delay_ms} ms` : "", rule.status ? `${rule.status} ${rule.errcode || ""}` : "",
          rule.times ? `×${rule.times}` : "", rule.after ? `after ${rule.after}` : ""].filter(Boolean).join(", ")),
        el("td", {}, rule.matched), el("td", {}, rule.applied),
        el("td", {}, el("button", { type: "button", "aria-label": `Remove fault rule ${rule.id}`,
          onclick: () => api(`faults/${rule.id}`, { method: "DELETE" }) }, "Remove"))))) : empty("No fault rules."),
    el("h3", {}, "Add"), form)));
}

async function loadScript() {
  const { fired, upcoming } = await api("script");
  setCount("script", upcoming.length);
  const what = (entry) => entry.room_id ? `${entry.type} in ${entry.room_id}: ${entry.content?.body ?? short(JSON.stringify(entry.content))}`
    : `${entry.type} to ${Object.keys(entry.to_device || {}).join(", ")}`;
  const form = el("form", { "aria-label": "Run a script entry", onsubmit: async (event) => {
      event.preventDefault();
      try { await api("script", { method: "POST", body: new FormData(event.target).get("entry") }); }
      catch (error) { alert(error.message); }
    } },
    el("label", {}, "Entry (a scenario script entry, YAML)", el("br"),
      el("textarea", { name: "entry", rows: 3, cols: 50 }, "sender: bob\nroom: lobby\nsay: hello from the inspector")),
    el("br"), el("button", { type: "submit" }, "Run now"));
  $("script").replaceChildren(el("div", { class: "cards" },
    el("article", { class: "card", "aria-label": "To come" }, el("h2", {}, "To come"),
      upcoming.length ? table("Upcoming", ["in", "sender", "what"], upcoming.map((entry) =>
        el("tr", {}, el("td", {}, `${(entry.due_in_ms / 1000).toFixed(1)} s`), el("td", {}, entry.sender), el("td", {}, what(entry))))) : empty("Nothing scheduled.")),
    el("article", { class: "card", "aria-label": "Fired" }, el("h2", {}, "Fired"),
      fired.length ? table("Fired", ["time", "sender", "what", "event"], fired.slice().reverse().map((entry) =>
        el("tr", {}, el("td", { class: "muted" }, clock(entry.at)), el("td", {}, entry.sender), el("td", {}, what(entry)),
          el("td", {}, entry.skipped ? el("span", { class: "tag bad" }, "skipped") : entry.event_ids.join(" "))))) : empty("Nothing fired yet.")),
    el("article", { class: "card", "aria-label": "Run a script entry" }, el("h2", {}, "Run an entry"), form)));
}

async function loadReplay() {
  const replay = await api("replay/flows");
  const answered = replay.flows.filter((flow) => flow.answered);
  const waiting = replay.flows.filter((flow) => !flow.answered);
  setCount("replay", replay.misses.length);
  const flows = (list, tag) => table("Flows", ["flow", "request"], list.map((flow) =>
    el("tr", {}, el("td", {}, flow.id), el("td", {}, flow.request, el("span", { class: `tag ${tag}` }, tag === "good" ? "answered" : "not yet")))));
  $("replay").replaceChildren(el("div", { class: "cards" },
    el("article", { class: "card", "aria-label": "Misses" },
      el("h2", {}, `Missed (${replay.misses.length})`),
      replay.misses.length ? replay.misses.map((miss) => el("section", { class: "miss", "aria-label": `Miss ${miss.request}` },
        el("h3", {}, miss.request, el("span", { class: "tag bad" }, miss.answer)),
        miss.near_misses.length ? miss.near_misses.map((near) => el("div", {},
          el("p", {}, `closest: flow ${near.flow}, ${near.request}`),
          near.differences.map((d) => el("p", { class: "diff" }, `${d.matcher}${d.field ? " " + d.field : ""}: recorded ${d.recorded}, got ${d.got}`))))
          : el("p", { class: "muted" }, "Nothing recorded is like it."))) : empty("No misses.")),
    el("article", { class: "card", "aria-label": "Not yet played" }, el("h2", {}, `Not yet played (${waiting.length})`), waiting.length ? flows(waiting, "wait") : empty("Every recorded request was answered.")),
    el("article", { class: "card", "aria-label": "Answered" }, el("h2", {}, `Answered (${answered.length})`), answered.length ? flows(answered, "good") : empty("None yet.")),
    el("article", { class: "card", "aria-label": "Re-sent pushes" }, el("h2", {}, `Re-sent pushes (${replay.pushes.length})`),
      replay.pushes.length ? table("Pushes", ["flow", "event", "status", ""], replay.pushes.map((push) =>
        el("tr", {}, el("td", {}, push.flow), el("td", {}, push.event_id || ""), el("td", {}, push.status ?? push.error ?? ""),
          el("td", {}, el("span", { class: `tag ${push.ok ? "good" : "bad"}` }, push.ok ? "as recorded" : "differs"))))) : empty("None.")),
  ));
}

// -- live --------------------------------------------------------------------------------------------------------

const loaders = { requests: loadRequests, rooms: loadRooms, "to-device": loadToDevice, push: loadPush, faults: loadFaults, script: loadScript, replay: loadReplay };
const topicViews = { requests: ["requests"], rooms: ["rooms"], to_device: ["to-device"], notifications: ["push"], pushes: ["push"], faults: ["faults"], script: ["script"], replay: ["replay"] };

async function refresh(view) {
  try { await loaders[view](); }
  catch (error) { console.warn(`inspector: ${view}: ${error.message}`); }
}

function changed(topics) {
  if (topics.includes("world")) {
    state.requests = [];
    state.lastId = 0;
    state.selected = null;
    $("detail").replaceChildren(empty("The world was reset."));
    loadInfo();
    refresh("requests");
    if (state.active !== "requests") refresh(state.active);
    return;
  }
  const views = new Set(topics.flatMap((topic) => topicViews[topic] || []));
  if (state.info?.kind === "replay" && views.has("requests")) views.add("replay");
  for (const view of views) if (view === "requests" || view === state.active) refresh(view);
}

async function loadInfo() {
  state.info = await api("info");
  const info = state.info;
  $("server").textContent = info.kind === "replay" ? `replay of ${info.recording} · run ${info.runs}`
    : `${info.server_name} · ${info.source} · resets: ${info.resets}`;
  const replay = info.kind === "replay";
  $("tab-replay").hidden = !replay;
  for (const view of ["rooms", "to-device", "push", "faults", "script"]) $(`tab-${view}`).hidden = replay;
}

function connect() {
  const stream = new EventSource("events");
  stream.addEventListener("hello", () => { $("live").textContent = "live"; $("live").classList.add("on"); });
  stream.addEventListener("change", (event) => changed(JSON.parse(event.data)));
  stream.addEventListener("error", () => { $("live").textContent = "reconnecting"; $("live").classList.remove("on"); });
}

function keys(event) {
  const typing = event.target.closest("input, textarea, select");
  if (event.key === "Escape" && typing) { event.target.blur(); return; }
  if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
  const tab = tabs().find((t) => t.dataset.key === event.key);
  if (tab) show(tab.getAttribute("aria-controls"), true);
  else if (event.key === "j" && state.active === "requests") step(1);
  else if (event.key === "k" && state.active === "requests") step(-1);
  else if (event.key === "/") { event.preventDefault(); show("requests"); document.querySelector("#filters input[name=text]").focus(); }
  else if (event.key === "r") $("reset").click();
}

function tabKeys(event) {
  const list = tabs();
  const at = list.indexOf(event.target);
  const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: list.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  show(list[(next + list.length) % list.length].getAttribute("aria-controls"), true);
}

document.addEventListener("DOMContentLoaded", async () => {
  for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => show(tab.getAttribute("aria-controls")));
  $("tabs").addEventListener("keydown", tabKeys);
  document.addEventListener("keydown", keys);
  $("filters").addEventListener("input", renderRequests);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("reset").addEventListener("click", () => api("reset", { method: "POST" }).catch((error) => alert(error.message)));
  await loadInfo();
  connect();
  await loadRequests();
});
