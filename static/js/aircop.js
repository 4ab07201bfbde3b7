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

  /* --- a field group shown only for some values of another field (H3 note, currency...).
   * Hidden groups are disabled too, so what the officer cannot see is not sent. --- */
  function setupConditionalFields() {
    document.querySelectorAll("[data-show-when]").forEach(function (group) {
      var control = document.getElementById(group.getAttribute("data-show-when"));
      if (!control) return;
      var values = (group.getAttribute("data-show-values") || "").split(" ");
      var update = function () {
        var show = values.indexOf(control.value) !== -1;
        group.hidden = !show;
        group.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !show; });
      };
      control.addEventListener("change", update);
      update();
    });
  }

  /* --- repeated inputs under one name (transit stops, nationalities): "Add" clones a slot --- */
  function setupRepeats() {
    document.querySelectorAll("[data-repeat]").forEach(function (box) {
      var button = box.querySelector("[data-repeat-add]");
      var max = parseInt(box.getAttribute("data-repeat-max") || "10", 10);
      if (!button) return;
      var items = function () { return box.querySelectorAll(".repeat-item"); };
      var update = function () { button.hidden = items().length >= max; };
      button.addEventListener("click", function () {
        var all = items();
        var last = all[all.length - 1];
        var copy = last.cloneNode(true);
        var input = copy.querySelector("input, select");
        var first = all[0].querySelector("input, select");
        input.value = "";
        input.classList.remove("is-invalid");
        input.id = first.id + "_" + all.length;
        last.after(copy);
        input.focus();
        update();
      });
      update();
    });
  }

  /* --- formsets: "Add a passenger" clones the empty form of a <template> --- */
  function setupFormsets() {
    document.querySelectorAll("[data-formset-add]").forEach(function (button) {
      var prefix = button.getAttribute("data-formset-add");
      var template = document.getElementById(prefix + "-empty-form");
      var list = document.querySelector('[data-formset-forms="' + prefix + '"]');
      var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
      if (!template || !list || !total) return;
      var limit = max ? parseInt(max.value, 10) : 1000;
      var update = function () { button.hidden = parseInt(total.value, 10) >= limit; };
      button.addEventListener("click", function () {
        var index = parseInt(total.value, 10);
        var html = template.innerHTML.replace(/__prefix__/g, String(index))
          .replace(/__number__/g, numberFormat.format(index + 1));
        list.insertAdjacentHTML("beforeend", html);
        total.value = String(index + 1);
        var added = list.lastElementChild;
        var field = added && added.querySelector("input, select");
        if (field) field.focus();
        update();
      });
      update();
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
    badges(message).forEach(function (badge) {
      subject.appendChild(badge);
      subject.appendChild(document.createTextNode(" "));
    });
    subject.appendChild(document.createTextNode(message.subject));
    row.appendChild(top);
    row.appendChild(subject);
    row.dataset.kind = message.kind || "";
    row.dataset.priority = message.priority || "";
    if (isUrgentAlert(message)) {
      row.classList.add("urgent-pending");
      var pending = document.createElement("div");
      pending.className = "small text-danger fw-semibold pending-label";
      pending.textContent = label("pending", "");
      row.appendChild(pending);
    }
    return row;
  }

  /* Labels (translated by the server) of the live client. */
  function label(name, fallback) {
    var labels = document.getElementById("live-labels");
    var key = name.replace(/-([a-z])/g, function (_, c) { return c.toUpperCase(); });
    return (labels && labels.dataset[key]) || fallback;
  }

  function isUrgentAlert(message) {
    return message.kind === "alert" && message.priority === "urgent";
  }

  function badge(className, text, title) {
    var el = document.createElement("span");
    el.className = "badge " + className;
    el.textContent = text;
    if (title) el.title = title;
    return el;
  }

  function badges(message) {
    var list = [];
    if (message.kind && message.kind !== "free_text") {
      list.push(badge("badge-kind badge-kind-" + message.kind, label("kind-" + message.kind, message.kind)));
    }
    if (message.priority === "urgent") list.push(badge("text-bg-danger badge-priority", label("urgent", "urgent")));
    if (message.handling_code && message.handling_code !== "H0") {
      list.push(badge("text-bg-warning badge-handling", message.handling_code));
    }
    return list;
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
    var heading = isUrgentAlert(message) ? label("urgent-alert", "Urgent alert")
      : ((list && list.dataset.labelNew) || "New message");
    title.textContent = heading + " · " + message.sender.full_name;
    if (isUrgentAlert(message)) el.classList.add("toast-urgent");
    body.appendChild(title);
    body.appendChild(link);
    el.appendChild(body);
    box.appendChild(el);
    new window.bootstrap.Toast(el, { delay: 6000 }).show();
    el.addEventListener("hidden.bs.toast", function () { el.remove(); });
  }

  /* --- browser notifications for urgent alerts (Notifications API, when allowed) --- */
  function notificationsAvailable() { return "Notification" in window; }

  function setupNotificationButton() {
    document.querySelectorAll("[data-enable-notifications]").forEach(function (button) {
      var update = function () {
        button.hidden = !notificationsAvailable() || Notification.permission !== "default";
      };
      button.addEventListener("click", function () {
        var done = function () { update(); };
        var result = Notification.requestPermission(done);
        if (result && result.then) result.then(done);
      });
      update();
    });
  }

  function notify(message) {
    if (!notificationsAvailable() || Notification.permission !== "granted") return false;
    try {
      var n = new Notification(label("urgent-alert", "Urgent alert") + " · " + message.sender.full_name, {
        body: message.subject, tag: "aircop-" + message.id, requireInteraction: true
      });
      n.addEventListener("click", function () { window.focus(); location.href = message.url; n.close(); });
      return true;
    } catch (e) {
      return false; // e.g. Android Chrome needs a service worker: the toast is enough
    }
  }

  /* --- the OCU's follow-up board --- */
  var board = null;
  var boardFormat = null;

  function formatTime(iso) {
    if (!boardFormat) {
      var options = { dateStyle: "short", timeStyle: "short" };
      var tz = board && board.dataset.timeZone;
      try { boardFormat = new Intl.DateTimeFormat(lang, tz ? Object.assign({ timeZone: tz }, options) : options); }
      catch (e) { boardFormat = new Intl.DateTimeFormat(lang, options); }
    }
    return boardFormat.format(new Date(iso));
  }

  function setCell(row, field, iso) {
    var cell = row.querySelector('[data-field="' + field + '"]');
    if (!cell || !iso) return;
    var time = cell.querySelector("time");
    if (time && time.dateTime === iso) return;
    cell.textContent = "";
    time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = formatTime(iso);
    cell.appendChild(time);
    cell.setAttribute("data-done", "");
    cell.classList.remove("just-updated");
    void cell.offsetWidth; // restart the highlight
    cell.classList.add("just-updated");
  }

  function cellValue(row, field) {
    var time = row.querySelector('[data-field="' + field + '"] time');
    return time ? time.dateTime : null;
  }

  function rowOverdue(row, now) {
    var due = Date.parse(row.dataset.dueAt);
    var ack = cellValue(row, "acknowledged_at");
    return ack ? Date.parse(ack) > due : now > due;
  }

  function refreshAlert(section, now) {
    var rows = section.querySelectorAll("[data-followup-row]");
    var counts = { acknowledged: 0, answered: 0, overdue: 0 };
    rows.forEach(function (row) {
      var overdue = rowOverdue(row, now);
      row.classList.toggle("overdue", overdue);
      var tag = row.querySelector(".overdue-label");
      if (tag) tag.hidden = !overdue;
      if (overdue) counts.overdue += 1;
      if (cellValue(row, "acknowledged_at")) counts.acknowledged += 1;
      if (cellValue(row, "answered_at")) counts.answered += 1;
    });
    Object.keys(counts).forEach(function (key) {
      var out = section.querySelector('[data-count="' + key + '"]');
      if (out) out.textContent = numberFormat.format(counts[key]);
    });
    section.classList.toggle("overdue", counts.overdue > 0);
    var flag = section.querySelector(".overdue-badge");
    if (flag) flag.hidden = counts.overdue === 0;
  }

  function setupBoard() {
    board = document.getElementById("followup");
    if (!board) return;
    board.querySelectorAll("time[datetime]").forEach(function (time) {
      time.textContent = formatTime(time.dateTime);
    });
    // Unacknowledged recipients become overdue as time passes, without a reload.
    setInterval(function () {
      var now = Date.now();
      board.querySelectorAll(".followup-alert").forEach(function (section) { refreshAlert(section, now); });
    }, 30000);
  }

  function onBoardDelivery(event) {
    if (!board || board.dataset.operation !== event.operation) return;
    var row = board.querySelector('[data-followup-row][data-message-id="' + event.message_id + '"]' +
      '[data-recipient="' + CSS.escape(event.recipient) + '"]');
    if (!row) return;
    setCell(row, "delivered_at", cellValue(row, "delivered_at") || event.read_at || event.acknowledged_at);
    setCell(row, "read_at", event.read_at);
    setCell(row, "acknowledged_at", event.acknowledged_at);
    setCell(row, "answered_at", event.answered_at);
    refreshAlert(row.closest(".followup-alert"), Date.now());
  }

  function onBoardMessage(event) {
    if (!board || event.replay || board.dataset.operation !== event.operation) return;
    if (event.message.kind !== "alert") return;
    if (board.querySelector('[data-alert-id="' + event.message.id + '"]')) return;
    var notice = document.getElementById("followup-new");
    if (notice) notice.hidden = false;
  }

  /* --- my own progress on a message (another tab, or this one): counters and inbox row --- */
  function onOwnDelivery(event) {
    var row = document.querySelector('#inbox [data-message-id="' + event.message_id + '"]');
    var wasUnread = row ? row.classList.contains("unread") : readJustNow(event);
    if (row) {
      row.classList.remove("unread");
      if (event.acknowledged_at) {
        row.classList.remove("urgent-pending");
        var pending = row.querySelector(".pending-label");
        if (pending) pending.remove();
      }
    }
    if (wasUnread) addUnread(event.operation, -1);
  }

  /* An acknowledgement or an answer also marks the message read: was it read at that moment? */
  function readJustNow(event) {
    if (event.type === "delivery.read") return true;
    var latest = event.answered_at || event.acknowledged_at;
    return !!event.read_at && event.read_at === latest;
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
    // The channel layer may drop an event (a process that could not keep up): every few
    // minutes, and when the tab comes back, ask the database for anything missed.
    var CATCH_UP_MS = 5 * 60 * 1000;
    var lastResume = 0;

    function resume() {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      lastResume = Date.now();
      socket.send(JSON.stringify({ type: "resume", after: lastId }));
    }

    function setStatus(state) {
      if (!status) return;
      status.dataset.state = state;
      var label = status.querySelector(".live-label");
      if (label) label.textContent = state === "online" ? label.dataset.labelOnline : label.dataset.labelOffline;
    }

    function onMessage(event) {
      if (seen[event.message.id]) return;
      seen[event.message.id] = true;
      // The server sends a user's messages in the order they were delivered (not always the
      // order of their ids): the last one is where a reconnection resumes.
      lastId = event.message.id;
      var list = inboxFor(event.operation);
      if (list) insertRow(list, renderRow(event.operation, event.message), event.message.id);
      addUnread(event.operation, 1);
      onBoardMessage(event);
      if (!event.replay) {
        if (isUrgentAlert(event.message)) notify(event.message);
        toast(event.operation, event.message);
      }
    }

    function open() {
      retryTimer = null;
      if (socket && socket.readyState <= WebSocket.OPEN) return; // connecting or open already
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      // ?after= : the server replays what this page missed before any new event, in order.
      var ws = new WebSocket(scheme + location.host + url + "?after=" + lastId);
      socket = ws;
      ws.addEventListener("open", function () {
        attempt = 0;
        setStatus("online");
        lastResume = Date.now();
        clearInterval(pingTimer);
        pingTimer = setInterval(function () {
          if (Date.now() - lastResume >= CATCH_UP_MS) resume();
          else ws.send(JSON.stringify({ type: "ping" }));
        }, 25000);
      });
      ws.addEventListener("message", function (e) {
        var event = JSON.parse(e.data);
        if (event.type === "message.new") onMessage(event);
        else if (event.type === "resume.done") setUnread(event.unread || {});
        else if (event.type === "operation.revoked") {
          // No longer a member of this page's operation: go home (the server closes and the
          // client reconnects for the remaining operations).
          if (event.operation === document.body.dataset.operation) location.assign("/");
        } else if (event.type === "membership.changed") {
          if (event.operation === document.body.dataset.operation) location.reload();
        }
        else if (event.type === "delivery.read" || event.type === "delivery.acknowledged") {
          // The recipient's own tabs, and for an Alert its sender and the OCUs (follow-up board):
          // only the recipient's own counters change.
          if (event.recipient === document.body.dataset.username) onOwnDelivery(event);
          onBoardDelivery(event);
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
      if (document.visibilityState !== "visible") return;
      if (retryTimer !== null) retryNow();
      else resume();
    });
    open();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupCounters();
    setupMemberSelection();
    setupAutosubmit();
    setupConditionalFields();
    setupRepeats();
    setupFormsets();
    setupNotificationButton();
    setupBoard();
    connectLive();
  });
})();
