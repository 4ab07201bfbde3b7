/* aircop's small client: live inbox over the websocket, character counter, member selection.
 * No inline script anywhere (the pages are ready for a strict Content-Security-Policy). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var lang = document.documentElement.lang || "en";
  var numberFormat = new Intl.NumberFormat(lang);

  function fill(template, count) {
    return template.replace("%(count)s", numberFormat.format(count));
  }

  /* --- character counter: counts what the server counts (code points, one per line break) --- */
  function setupCounters() {
    document.querySelectorAll("textarea[data-char-limit]").forEach(function (area) {
      var out = document.querySelector('[data-char-remaining-for="' + area.id + '"]');
      if (!out) return;
      var limit = parseInt(area.getAttribute("data-char-limit"), 10);
      // The browser's maxlength would silently cut a long paste (and counts UTF-16 units, not
      // characters): with the live counter the officer sees the overflow and shortens it himself;
      // the server still refuses a body over the limit.
      area.removeAttribute("maxlength");
      var update = function () {
        var used = Array.from(area.value.replace(/\r\n?/g, "\n")).length;
        var left = limit - used;
        out.textContent = left >= 0 ? fill(out.dataset.label, left) : fill(out.dataset.labelOver, -left);
        out.classList.toggle("text-danger", left < 0);
        area.classList.toggle("is-invalid", left < 0);
      };
      area.addEventListener("input", update);
      update();
    });
  }

  /* --- manual selection: select all / none, selected count --- */
  function setupMemberSelection() {
    var boxes = function () { return document.querySelectorAll('input[name="users"]'); };
    var counter = document.querySelector("[data-selected-count]");
    var update = function () {
      if (counter) counter.textContent = numberFormat.format(
        Array.prototype.filter.call(boxes(), function (b) { return b.checked; }).length);
    };
    document.querySelectorAll("[data-select]").forEach(function (button) {
      button.addEventListener("click", function () {
        var on = button.getAttribute("data-select") === "all";
        boxes().forEach(function (b) { b.checked = on; });
        update();
      });
    });
    boxes().forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  function setupAutosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  /* --- unread counters --- */
  function setCount(el, n) {
    if (!el) return;
    n = Math.max(0, n);
    el.dataset.count = String(n);
    el.textContent = numberFormat.format(n);
    if (el.hasAttribute("data-unread-operation")) el.hidden = n === 0;
  }
  function addUnread(operation, delta) {
    var total = document.getElementById("unread-total");
    if (total) setCount(total, parseInt(total.dataset.count || "0", 10) + delta);
    var op = document.querySelector('[data-unread-operation="' + operation + '"]');
    if (op) setCount(op, parseInt(op.dataset.count || "0", 10) + delta);
    updateTitle();
  }
  function setUnread(map) {
    var sum = 0;
    document.querySelectorAll("[data-unread-operation]").forEach(function (el) {
      var n = map[el.getAttribute("data-unread-operation")] || 0;
      sum += n;
      setCount(el, n);
    });
    setCount(document.getElementById("unread-total"), sum);
    updateTitle();
  }
  var baseTitle = document.title;
  function updateTitle() {
    var total = document.getElementById("unread-total");
    var n = total ? parseInt(total.dataset.count || "0", 10) : 0;
    document.title = (n > 0 ? "(" + n + ") " : "") + baseTitle;
  }

  /* --- the live inbox --- */
  function inboxFor(operation) {
    var list = document.getElementById("inbox");
    if (list && list.dataset.operation === operation && list.dataset.liveList === "true") return list;
    return null;
  }

  function renderRow(operation, message) {
    var row = document.createElement("a");
    row.className = "list-group-item list-group-item-action message-row unread just-arrived";
    row.href = message.url;
    row.dataset.messageId = String(message.id);
    var top = document.createElement("div");
    top.className = "d-flex justify-content-between gap-2";
    var sender = document.createElement("span");
    sender.className = "message-sender";
    sender.textContent = message.sender.full_name + " ";
    var airport = document.createElement("small");
    airport.className = "text-body-secondary";
    airport.textContent = message.sender.airport || "";
    sender.appendChild(airport);
    var time = document.createElement("time");
    time.className = "small text-body-secondary text-nowrap";
    time.dateTime = message.created_at;
    time.textContent = new Date(message.created_at).toLocaleString(lang, { dateStyle: "short", timeStyle: "short" });
    top.appendChild(sender);
    top.appendChild(time);
    var subject = document.createElement("div");
    subject.className = "message-subject";
    subject.textContent = message.subject;
    row.appendChild(top);
    row.appendChild(subject);
    return row;
  }

  function insertRow(list, row, id) {
    var empty = list.querySelector(".empty-state");
    if (empty) empty.remove();
    var rows = list.querySelectorAll("[data-message-id]");
    for (var i = 0; i < rows.length; i++) {
      if (parseInt(rows[i].dataset.messageId, 10) < id) { list.insertBefore(row, rows[i]); return; }
    }
    list.appendChild(row);
  }

  function toast(operation, message) {
    var box = document.getElementById("toasts");
    var list = document.getElementById("inbox");
    if (!box || !window.bootstrap) return;
    var el = document.createElement("div");
    el.className = "toast";
    el.setAttribute("role", "status");
    var body = document.createElement("div");
    body.className = "toast-body";
    var link = document.createElement("a");
    link.href = message.url;
    link.textContent = message.subject;
    var title = document.createElement("div");
    title.className = "small text-body-secondary";
    title.textContent = ((list && list.dataset.labelNew) || "New message") + " · " + message.sender.full_name;
    body.appendChild(title);
    body.appendChild(link);
    el.appendChild(body);
    box.appendChild(el);
    new window.bootstrap.Toast(el, { delay: 6000 }).show();
    el.addEventListener("hidden.bs.toast", function () { el.remove(); });
  }

  function connectLive() {
    var url = document.body.dataset.wsUrl;
    if (!url || !window.WebSocket) return;
    var status = document.getElementById("live-status");
    var seen = {};
    var lastId = parseInt(document.body.dataset.lastDelivery || "0", 10);
    document.querySelectorAll("[data-message-id]").forEach(function (row) {
      seen[row.dataset.messageId] = true;
    });
    var attempt = 0;
    var pingTimer = null;
    var retryTimer = null;
    var socket = null;

    function setStatus(state) {
      if (!status) return;
      status.dataset.state = state;
      var label = status.querySelector(".live-label");
      if (label) label.textContent = state === "online" ? label.dataset.labelOnline : label.dataset.labelOffline;
    }

    function onMessage(event) {
      if (event.message.id > lastId) lastId = event.message.id;
      if (seen[event.message.id]) return;
      seen[event.message.id] = true;
      var list = inboxFor(event.operation);
      if (list) insertRow(list, renderRow(event.operation, event.message), event.message.id);
      addUnread(event.operation, 1);
      if (!event.replay) toast(event.operation, event.message);
    }

    function open() {
      retryTimer = null;
      if (socket && socket.readyState <= WebSocket.OPEN) return; // connecting or open already
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var ws = new WebSocket(scheme + location.host + url);
      socket = ws;
      ws.addEventListener("open", function () {
        attempt = 0;
        setStatus("online");
        ws.send(JSON.stringify({ type: "resume", after: lastId }));
        clearInterval(pingTimer);
        pingTimer = setInterval(function () { ws.send(JSON.stringify({ type: "ping" })); }, 25000);
      });
      ws.addEventListener("message", function (e) {
        var event = JSON.parse(e.data);
        if (event.type === "message.new") onMessage(event);
        else if (event.type === "resume.done") setUnread(event.unread || {});
        else if (event.type === "delivery.read") {
          var row = document.querySelector('[data-message-id="' + event.message_id + '"]');
          if (row && row.classList.contains("unread")) row.classList.remove("unread");
          addUnread(event.operation, -1);
        }
      });
      ws.addEventListener("close", function (e) {
        if (ws !== socket) return; // an older socket, already replaced
        clearInterval(pingTimer);
        setStatus("offline");
        if (e.code === 4401) return; // signed out: do not hammer the server
        var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
        attempt += 1;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(open, delay);
      });
      window.aircopSocket = ws;
    }

    // Back on the network or back to the tab: retry now rather than at the end of the backoff.
    function retryNow() {
      if (retryTimer === null) return;
      clearTimeout(retryTimer);
      attempt = 0;
      open();
    }
    window.addEventListener("online", retryNow);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") retryNow();
    });
    open();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupCounters();
    setupMemberSelection();
    setupAutosubmit();
    connectLive();
  });
})();
