// The X sandbox chat page: write as demo customers, watch the bot's replies arrive.
// Plain JS, no dependencies. All text goes into the page with textContent, never as HTML.
(function () {
  "use strict";

  var POLL_MS = 700;
  var MAX_BACKOFF_MS = 5000;
  var STORAGE_KEY = "x-sandbox-chat:open-customers";

  var body = document.body;
  var base = body.dataset.base || "";
  var maxText = Number(body.dataset.maxText) || 10000;
  var panesEl = document.getElementById("panes");
  var emptyState = document.getElementById("empty-state");
  var paneTemplate = document.getElementById("pane-template");
  var messageTemplate = document.getElementById("message-template");
  var panes = new Map(); // user id -> pane state

  function apiUrl(path) {
    return base + "/chat/api/" + path;
  }

  // Snowflake ids are 19-digit strings: compare by length, then text (no float rounding).
  function idCompare(a, b) {
    if (a.length !== b.length) return a.length - b.length;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function formatTime(iso) {
    var at = new Date(iso);
    if (isNaN(at.getTime())) return { short: iso, long: iso };
    var sameDay = at.toDateString() === new Date().toDateString();
    var short = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (!sameDay) short = at.toLocaleDateString([], { month: "short", day: "numeric" }) + ", " + short;
    return { short: short, long: at.toLocaleString() };
  }

  function saveOpen() {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(Array.from(panes.keys())));
    } catch (e) {
      /* private mode or storage off: the page still works, it just forgets */
    }
  }

  function loadOpen() {
    try {
      var ids = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
      return Array.isArray(ids) ? ids : [];
    } catch (e) {
      return [];
    }
  }

  function updateEmptyState() {
    emptyState.hidden = panes.size > 0;
  }

  function nearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 48;
  }

  function renderMessage(state, message) {
    if (state.seen.has(message.id)) return;
    state.seen.add(message.id);
    if (idCompare(message.id, state.lastId) > 0) state.lastId = message.id;

    var item = messageTemplate.content.firstElementChild.cloneNode(true);
    item.classList.add(message.from === "bot" ? "bot" : "customer");
    item.dataset.eventId = message.id;
    item.dataset.from = message.from;
    item.querySelector("[data-text]").textContent = message.text;
    item.querySelector("[data-author]").textContent =
      message.sender_name + " (@" + message.sender_handle + ")";
    var time = item.querySelector("[data-time]");
    var shown = formatTime(message.created_at);
    time.textContent = shown.short;
    time.dateTime = message.created_at;
    time.title = shown.long;

    var list = state.list;
    var stick = nearBottom(list) || message.from === "customer";
    // Usually the newest: walk back from the end to keep id order if one arrives late.
    var before = null;
    for (var node = list.lastElementChild; node; node = node.previousElementSibling) {
      if (idCompare(node.dataset.eventId, message.id) < 0) break;
      before = node;
    }
    list.insertBefore(item, before);
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function setConnection(state, ok) {
    state.connection.textContent = ok ? "" : "Reconnecting…";
    state.pane.classList.toggle("offline", !ok);
  }

  function schedulePoll(state, delay) {
    if (state.closed) return;
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      poll(state);
    }, delay);
  }

  function poll(state) {
    if (state.closed || state.polling) return;
    state.polling = true;
    var url = apiUrl("conversations/" + encodeURIComponent(state.id) + "?after=" + state.lastId);
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        (data.messages || []).forEach(function (m) {
          renderMessage(state, m);
        });
        state.failures = 0;
        setConnection(state, true);
      })
      .catch(function () {
        state.failures += 1;
        setConnection(state, false);
      })
      .then(function () {
        state.polling = false;
        var delay = state.failures ? Math.min(POLL_MS * Math.pow(2, state.failures), MAX_BACKOFF_MS) : POLL_MS;
        schedulePoll(state, delay);
      });
  }

  function updateCounter(state) {
    var length = state.input.value.length;
    state.counter.textContent = length > maxText * 0.8 ? length + " / " + maxText : "";
    state.counter.classList.toggle("over", length > maxText);
  }

  function showError(state, text) {
    state.error.textContent = text || "";
  }

  function send(state) {
    var text = state.input.value;
    if (state.sending || !text.trim()) return;
    if (text.length > maxText) {
      showError(state, "A DM holds at most " + maxText + " characters.");
      return;
    }
    state.sending = true;
    state.sendButton.disabled = true;
    showError(state, "");
    fetch(apiUrl("customers/" + encodeURIComponent(state.id) + "/messages"), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ text: text }),
    })
      .then(function (response) {
        return response.json().then(
          function (data) {
            return { ok: response.ok, status: response.status, data: data };
          },
          function () {
            return { ok: false, status: response.status, data: {} };
          }
        );
      })
      .then(function (result) {
        if (!result.ok) throw new Error(result.data.error || "The sandbox answered " + result.status + ".");
        renderMessage(state, result.data.message);
        if (state.input.value === text) {
          state.input.value = "";
          state.input.dir = "auto"; // let the next message pick its own direction
        }
        updateCounter(state);
      })
      .catch(function (error) {
        showError(state, "Not sent: " + error.message);
      })
      .then(function () {
        state.sending = false;
        state.sendButton.disabled = false;
        state.input.focus();
      });
  }

  function openPane(toggle) {
    var id = toggle.dataset.customerToggle;
    if (panes.has(id)) return;
    var pane = paneTemplate.content.firstElementChild.cloneNode(true);
    pane.dataset.customer = id;
    pane.querySelector("[data-avatar]").textContent = (toggle.dataset.name || "?").charAt(0);
    pane.querySelector("[data-name]").textContent = toggle.dataset.name;
    pane.querySelector("[data-handle]").textContent = "@" + toggle.dataset.handle;
    var state = {
      id: id,
      pane: pane,
      list: pane.querySelector("[data-messages]"),
      input: pane.querySelector("[data-input]"),
      sendButton: pane.querySelector("[data-send]"),
      error: pane.querySelector("[data-error]"),
      counter: pane.querySelector("[data-counter]"),
      connection: pane.querySelector("[data-connection]"),
      seen: new Set(),
      lastId: "0",
      failures: 0,
      polling: false,
      sending: false,
      closed: false,
      timer: null,
    };
    state.input.setAttribute("aria-label", "Message as " + toggle.dataset.name);
    pane.querySelector("[data-composer]").addEventListener("submit", function (event) {
      event.preventDefault();
      send(state);
    });
    state.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send(state);
      }
    });
    state.input.addEventListener("input", function () {
      updateCounter(state);
    });
    pane.querySelector("[data-close]").addEventListener("click", function () {
      toggle.checked = false;
      closePane(id);
    });
    panes.set(id, state);
    panesEl.appendChild(pane);
    toggle.checked = true;
    updateEmptyState();
    saveOpen();
    poll(state);
    state.input.focus();
  }

  function closePane(id) {
    var state = panes.get(id);
    if (!state) return;
    state.closed = true;
    clearTimeout(state.timer);
    state.pane.remove();
    panes.delete(id);
    updateEmptyState();
    saveOpen();
  }

  var toggles = Array.prototype.slice.call(document.querySelectorAll("[data-customer-toggle]"));
  toggles.forEach(function (toggle) {
    toggle.addEventListener("change", function () {
      if (toggle.checked) openPane(toggle);
      else closePane(toggle.dataset.customerToggle);
    });
  });
  var remembered = loadOpen();
  toggles.forEach(function (toggle) {
    if (remembered.indexOf(toggle.dataset.customerToggle) !== -1) openPane(toggle);
  });
  updateEmptyState();
})();
