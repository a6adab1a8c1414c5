/* Live progress of a publish run.

   The page is rendered from the database (so a reload resumes where the run is). While
   the run is active this script follows it over the realtime socket (docs/realtime.md):
   a ticket from POST /realtime/ticket/, then /ws/?ticket=…, subscribe to the run with
   after=<last event shown> to replay what was missed, then live events. Each event
   updates the app user's row and the log. When the run ends, the server's rendering
   of the live section replaces ours (friendly errors, summary, retry button).

   If the socket cannot connect (or drops), htmx polls /runs/<id>/live/ every 2 s
   instead, until the run ends. */
(function () {
  "use strict";

  var STATES = {
    started: "running",
    published: "published",
    failed: "failed",
    skipped: "skipped",
  };
  var LABELS = {
    pending: "Waiting",
    running: "Publishing",
    published: "Published",
    failed: "Failed",
    skipped: "Skipped",
  };
  var STEPS = {  /* keep in step with _STEP_LABELS in templatetags/workspace.py */
    run: "Run",
    download: "Reading the spreadsheet",
    version: "Storing the version",
    app_user: "Preparing the app user",
    form: "Sending the form",
    attachments: "Uploading attachments",
    publish: "Publishing the draft",
    assign: "Giving the app user access",
    validate: "Checking the form",
    done: "Done",
  };

  var socket = null;
  var finished = false;
  var polling = false;

  function root() { return document.getElementById("run-live"); }

  function csrf() {
    var el = document.querySelector('meta[name="csrf-token"]');
    return el ? el.getAttribute("content") : "";
  }

  function setMode(mode, text) {
    var el = document.querySelector("[data-live-mode]");
    if (!el) return;
    el.setAttribute("data-mode", mode);
    var label = el.querySelector("[data-live-label]");
    if (label) label.textContent = text;
    var section = root();
    if (section) section.setAttribute("data-live", mode);
    /* Remembered outside the section, which the final rendering replaces. */
    if (mode === "socket" || mode === "poll") document.documentElement.setAttribute("data-live-transport", mode);
  }

  function announce(text) {
    var region = document.getElementById("live-status");
    if (region) region.textContent = text;
  }

  function badge(el, status) {
    el.className = "badge badge-" + status;
    el.setAttribute("data-status", status);
    el.textContent = LABELS[status] || status;
  }

  function recount() {
    var section = root();
    if (!section) return;
    var rows = section.querySelectorAll("tr[data-app-user]");
    var counts = { pending: 0, running: 0, published: 0, failed: 0, skipped: 0 };
    rows.forEach(function (row) {
      var status = row.getAttribute("data-status");
      if (counts[status] !== undefined) counts[status] += 1;
    });
    Object.keys(counts).forEach(function (status) {
      var el = section.querySelector('[data-count="' + status + '"]');
      if (el) el.textContent = counts[status];
    });
    var progress = section.querySelector("progress");
    if (progress) progress.value = counts.published + counts.failed + counts.skipped;
  }

  function addLog(event) {
    var list = document.querySelector("[data-log]");
    if (!list || list.querySelector('[data-event="' + event.id + '"]')) return;
    var item = document.createElement("li");
    item.setAttribute("data-event", event.id);
    var time = document.createElement("time");
    time.dateTime = event.at;
    time.textContent = new Date(event.at).toLocaleTimeString();
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = event.app_user || "run";
    var what = document.createElement("span");
    what.className = "st-" + event.state;
    what.textContent = (STEPS[event.step] || event.step) + " · " + event.state +
      (event.message ? " — " + event.message : "");
    item.append(time, who, what);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    var empty = document.querySelector("[data-log-empty]");
    if (empty) empty.remove();
  }

  function applyEvent(event) {
    var section = root();
    if (!section) return;
    var last = parseInt(section.getAttribute("data-last-event") || "0", 10);
    if (event.id > last) section.setAttribute("data-last-event", String(event.id));
    addLog(event);
    if (!event.app_user) return;
    var row = null;
    section.querySelectorAll("tr[data-app-user]").forEach(function (candidate) {
      if (candidate.getAttribute("data-app-user") === event.app_user) row = candidate;
    });
    if (!row) return;
    var status = STATES[event.state];
    if (!status) return;
    var current = row.getAttribute("data-status");
    if (status === "running" && (current === "published" || current === "failed")) return;
    row.setAttribute("data-status", status);
    var badgeEl = row.querySelector("[data-badge]");
    if (badgeEl) badge(badgeEl, status);
    var step = row.querySelector("[data-step]");
    if (step) step.textContent = status === "running" ? (STEPS[event.step] || event.step) : "";
    var detail = row.querySelector("[data-detail]");
    if (detail && (status === "failed" || status === "skipped")) detail.textContent = event.message || "";
    if (status === "published" || status === "failed") {
      announce(event.app_user + ": " + LABELS[status]);
    }
    recount();
  }

  function refreshFinal() {
    var section = root();
    if (!section || !window.htmx) return;
    window.htmx.ajax("GET", section.getAttribute("data-live-url"), {
      target: "#run-live",
      swap: "outerHTML",
    });
  }

  function startPolling() {
    if (polling || finished) return;
    polling = true;
    if (socket) { try { socket.close(); } catch (e) { /* already closed */ } socket = null; }
    var section = root();
    if (!section || !window.htmx) return;
    setMode("poll", "Checking every 2 seconds");
    section.setAttribute("hx-get", section.getAttribute("data-live-url") + "?poll=1");
    section.setAttribute("hx-trigger", "every 2s");
    section.setAttribute("hx-swap", "outerHTML");
    window.htmx.process(section);
  }

  function connect() {
    var section = root();
    var runId = parseInt(section.getAttribute("data-run"), 10);
    var subscribed = false;
    var timer = setTimeout(function () { if (!subscribed) startPolling(); }, 6000);
    fetch("/realtime/ticket/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("ticket " + response.status);
        return response.json();
      })
      .then(function (body) {
        var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
        var url = scheme + window.location.host + (body.url || "/ws/") +
          "?ticket=" + encodeURIComponent(body.ticket);
        socket = new WebSocket(url, "pmdm.v1");
        socket.addEventListener("open", function () {
          var after = parseInt(root().getAttribute("data-last-event") || "0", 10);
          socket.send(JSON.stringify({
            v: 1, type: "subscribe", stream: "run", run: runId, after: after, ref: "run",
          }));
        });
        socket.addEventListener("message", function (message) {
          var frame;
          try { frame = JSON.parse(message.data); } catch (e) { return; }
          if (frame.type === "subscribed" && frame.stream === "run") {
            subscribed = true;
            clearTimeout(timer);
            setMode("socket", "Live");
          } else if (frame.type === "run.event" && frame.run === runId) {
            applyEvent(frame.event);
            if (frame.final) {
              finished = true;
              setMode("done", "Finished");
              announce("Publishing finished.");
              socket.close();
              refreshFinal();
            }
          } else if (frame.type === "error" && frame.ref === "run") {
            startPolling();
          }
        });
        socket.addEventListener("close", function () {
          if (!finished) startPolling();
        });
        socket.addEventListener("error", function () {
          if (!finished) startPolling();
        });
      })
      .catch(function () { startPolling(); });
  }

  function init() {
    var section = root();
    if (!section || section.getAttribute("data-active") !== "true") return;
    if (section.getAttribute("hx-trigger")) { polling = true; return; }
    if (!("WebSocket" in window) || !window.fetch) return startPolling();
    connect();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
