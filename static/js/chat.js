// chat.js continues a server-rendered conversation live over a websocket.
//
// It reads #chat's data attributes (socket-url, last-seq, ended), resumes the
// stream after the last rendered message, sends messages with a client id so
// the server can deduplicate retries, and falls back to the plain form POST
// whenever the socket is not open. The protocol is in DESIGN.md §5.
(function () {
  "use strict";

  const root = document.getElementById("chat");
  if (!root) {
    return;
  }

  const thread = root.querySelector("#thread");
  const statusEl = root.querySelector('[data-testid="connection-status"]');
  const typingEl = root.querySelector('[data-testid="typing"]');
  const noticeEl = root.querySelector('[data-testid="notice"]');
  const endedBanner = root.querySelector('[data-testid="ended-banner"]');
  const assistantBadge = root.querySelector('[data-testid="chat-assistant"]');
  const composer = root.querySelector("#composer");
  const bodyInput = composer ? composer.querySelector('textarea[name="body"]') : null;
  const composerError = composer ? composer.querySelector('[data-testid="composer-error"]') : null;

  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const TYPING_EVERY_MS = 3000;
  const TYPING_IDLE_MS = 4000;
  const TYPING_SHOW_MS = 6000;
  const NOTICE_MS = 6000;
  const OPEN = 1;

  let lastSeq = Number.parseInt(root.dataset.lastSeq || "0", 10) || 0;
  let lastReadSent = 0;
  let ended = root.dataset.ended === "true";
  let socket = null;
  let attempt = 0;
  let openedAt = 0;
  let reconnectTimer = 0;
  let everLive = false;
  let leaving = false;

  // outbox holds sends not yet acknowledged, by clientMessageId; they are
  // sent again after a reconnect (the server deduplicates by the id).
  const outbox = new Map();
  // failed holds sends the server rejected, kept for the Retry button.
  const failed = new Map();

  let typingSentAt = 0;
  let typingActive = false;
  let typingIdleTimer = 0;
  let typingShowTimer = 0;
  let noticeTimer = 0;

  // ---- connection ------------------------------------------------------

  function setStatus(state, text) {
    if (!statusEl) {
      return;
    }
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  function socketURL() {
    const url = new URL(root.dataset.socketUrl, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }

  function isOpen() {
    return socket !== null && socket.readyState === OPEN;
  }

  function send(frame) {
    if (!isOpen()) {
      return false;
    }
    socket.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    window.clearTimeout(reconnectTimer);
    reconnectTimer = 0;
    if (leaving || (socket !== null && socket.readyState <= OPEN)) {
      return;
    }
    if (everLive) {
      setStatus("reconnecting", "Reconnecting…");
    } else {
      setStatus("connecting", "Connecting…");
    }

    let ws;
    try {
      ws = new WebSocket(socketURL());
    } catch (err) {
      scheduleReconnect();
      return;
    }
    socket = ws;

    ws.addEventListener("open", function () {
      if (socket !== ws) {
        return;
      }
      openedAt = Date.now();
      send({ type: "hello", afterSeq: lastSeq });
      outbox.forEach(function (body, id) {
        send({ type: "send", clientMessageId: id, body: body });
      });
      setStatus("live", "Live");
      if (!everLive) {
        everLive = true;
        document.documentElement.dataset.chatReady = "true";
      }
      maybeSendRead();
    });

    ws.addEventListener("message", function (event) {
      if (socket !== ws) {
        return;
      }
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (frame && typeof frame === "object") {
        handleFrame(frame);
      }
    });

    ws.addEventListener("close", function () {
      if (socket !== ws) {
        return;
      }
      socket = null;
      // Back off from the start again only after a connection that lasted:
      // a server that accepts and drops at once must not be hammered.
      if (openedAt && Date.now() - openedAt > 5000) {
        attempt = 0;
      }
      openedAt = 0;
      typingActive = false;
      hideTyping();
      if (!leaving) {
        scheduleReconnect();
      }
    });
  }

  function scheduleReconnect() {
    if (reconnectTimer || leaving) {
      return;
    }
    setStatus("reconnecting", "Reconnecting…");
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    attempt += 1;
    // Jitter spreads reconnects when a server restart drops many clients.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    reconnectTimer = window.setTimeout(connect, delay);
  }

  // ---- frames ----------------------------------------------------------

  function handleFrame(frame) {
    switch (frame.type) {
      case "message":
        onMessage(frame);
        break;
      case "ack":
        onAck(frame);
        break;
      case "conversation":
        onConversation(frame.conversation || {});
        break;
      case "typing":
        onTyping(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break;
    }
  }

  function onMessage(frame) {
    const message = frame.message || {};
    const seq = Number(frame.seq || message.seq || 0);
    if (seq > 0 && seq <= lastSeq) {
      return;
    }
    if (message.messageId && findServerMessage(message.messageId)) {
      return;
    }

    const item = typeof frame.html === "string" && frame.html !== "" ? fromHTML(frame.html) : fallbackItem(message, seq);
    if (!item) {
      return;
    }
    localizeTimes(item);

    const clientId = message.clientMessageId || item.dataset.clientMessageId || "";
    const local = clientId ? findLocal(clientId) : null;
    if (local) {
      local.replaceWith(item);
      outbox.delete(clientId);
      failed.delete(clientId);
    } else {
      insertInOrder(item, seq);
    }

    if (seq > lastSeq) {
      lastSeq = seq;
      root.dataset.lastSeq = String(lastSeq);
    }
    if (message.direction !== "in") {
      hideTyping();
    }
    scrollToBottom();
    if ((message.direction || item.dataset.direction) === "out") {
      sendRead(seq);
    }
  }

  function onAck(frame) {
    const id = frame.clientMessageId;
    if (!id) {
      return;
    }
    outbox.delete(id);
    failed.delete(id);
    // The message frame may already have replaced the bubble; then there is
    // no local bubble left and nothing to do.
    const local = findLocal(id);
    if (!local) {
      return;
    }
    local.classList.remove("pending", "failed");
    removeNote(local);
    if (frame.messageId) {
      local.dataset.messageId = frame.messageId;
    }
    if (frame.seq) {
      local.dataset.seq = String(frame.seq);
    }
  }

  function onConversation(conversation) {
    if (typeof conversation.isInAssistantMode === "boolean" && assistantBadge) {
      assistantBadge.hidden = !conversation.isInAssistantMode;
    }
    if (conversation.ended === true) {
      setEnded();
    }
  }

  function onTyping(frame) {
    const author = frame.author || {};
    if (author.type === "customer") {
      return;
    }
    if (!frame.typing) {
      hideTyping();
      return;
    }
    if (!typingEl) {
      return;
    }
    typingEl.textContent = (author.displayName || "Support") + " is typing…";
    typingEl.hidden = false;
    window.clearTimeout(typingShowTimer);
    typingShowTimer = window.setTimeout(hideTyping, TYPING_SHOW_MS);
  }

  function onError(frame) {
    const text = frame.message || "Something went wrong.";
    const id = frame.clientMessageId;
    if (!id) {
      showNotice(text);
      return;
    }
    const body = outbox.get(id);
    outbox.delete(id);
    const local = findLocal(id);
    if (!local) {
      showNotice(text);
      return;
    }
    failed.set(id, body !== undefined ? body : bodyOf(local));
    markFailed(local, id, text);
  }

  // ---- thread ----------------------------------------------------------

  function fromHTML(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const el = template.content.firstElementChild;
    return el && el.tagName === "LI" ? el : null;
  }

  // fallbackItem builds a plain item when a frame carries no html.
  function fallbackItem(message, seq) {
    const sentBy = message.sentBy || {};
    const direction = message.direction === "out" ? "out" : "in";
    const authorType = sentBy.type || (direction === "out" ? "agent" : "customer");
    const li = document.createElement("li");
    li.className = "msg msg-" + direction + " msg-" + authorType;
    li.dataset.testid = "message";
    li.dataset.seq = String(seq);
    li.dataset.messageId = message.messageId || "";
    li.dataset.clientMessageId = message.clientMessageId || "";
    li.dataset.direction = direction;
    li.dataset.authorType = authorType;
    const bubble = document.createElement("div");
    bubble.className = "msg-bubble";
    const meta = document.createElement("p");
    meta.className = "msg-meta";
    const author = document.createElement("span");
    author.className = "msg-author";
    author.textContent = sentBy.displayName || (direction === "out" ? "Support" : "Customer");
    meta.appendChild(author);
    const body = document.createElement("div");
    body.className = "msg-body";
    body.dataset.testid = "message-body";
    body.textContent = message.body || "";
    bubble.append(meta, body);
    li.appendChild(bubble);
    return li;
  }

  function items() {
    return Array.prototype.slice.call(thread.children);
  }

  function findLocal(clientId) {
    return items().find(function (el) {
      return el.dataset.local === "true" && el.dataset.clientMessageId === clientId;
    }) || null;
  }

  function findServerMessage(messageId) {
    return items().find(function (el) {
      return el.dataset.local !== "true" && el.dataset.messageId === messageId;
    }) || null;
  }

  // insertInOrder keeps the thread in seq order, with messages still being
  // sent (no seq yet) at the bottom.
  function insertInOrder(item, seq) {
    const before = items().find(function (el) {
      if (el.dataset.local === "true" && !el.dataset.seq) {
        return true;
      }
      const other = Number(el.dataset.seq || 0);
      return seq > 0 && other > seq;
    });
    thread.insertBefore(item, before || null);
  }

  function scrollToBottom() {
    thread.scrollTop = thread.scrollHeight;
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // localizeTimes shows message times in the reader's time zone.
  function localizeTimes(scope) {
    scope.querySelectorAll("time.msg-time[datetime]").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (!Number.isNaN(when.getTime())) {
        el.textContent = pad(when.getHours()) + ":" + pad(when.getMinutes());
        el.title = when.toLocaleString();
      }
    });
  }

  function pendingItem(id, body) {
    const li = document.createElement("li");
    li.className = "msg msg-in msg-customer msg-mine pending";
    li.dataset.testid = "message";
    li.dataset.local = "true";
    li.dataset.clientMessageId = id;
    li.dataset.direction = "in";
    li.dataset.authorType = "customer";
    const bubble = document.createElement("div");
    bubble.className = "msg-bubble";
    const meta = document.createElement("p");
    meta.className = "msg-meta";
    const author = document.createElement("span");
    author.className = "msg-author";
    author.textContent = "You";
    meta.appendChild(author);
    const text = document.createElement("div");
    text.className = "msg-body";
    text.dataset.testid = "message-body";
    text.textContent = body;
    bubble.append(meta, text);
    li.appendChild(bubble);
    setNote(li, "Sending…");
    return li;
  }

  function bodyOf(li) {
    const el = li.querySelector(".msg-body");
    return el ? el.textContent : "";
  }

  function setNote(li, text) {
    let note = li.querySelector(".msg-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "msg-note";
      note.dataset.testid = "message-note";
      li.appendChild(note);
    }
    note.textContent = text;
    return note;
  }

  function removeNote(li) {
    const note = li.querySelector(".msg-note");
    if (note) {
      note.remove();
    }
  }

  function markFailed(li, id, text) {
    li.classList.remove("pending");
    li.classList.add("failed");
    const note = setNote(li, text);
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "msg-retry";
    retry.dataset.testid = "retry";
    retry.textContent = "Retry";
    retry.addEventListener("click", function () {
      retrySend(li, id);
    });
    note.appendChild(retry);
  }

  function retrySend(li, id) {
    if (ended) {
      return;
    }
    const body = failed.has(id) ? failed.get(id) : bodyOf(li);
    failed.delete(id);
    outbox.set(id, body);
    li.classList.remove("failed");
    li.classList.add("pending");
    setNote(li, "Sending…");
    if (!send({ type: "send", clientMessageId: id, body: body })) {
      connect();
    }
  }

  function newClientMessageId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    if (window.crypto && typeof window.crypto.getRandomValues === "function") {
      window.crypto.getRandomValues(bytes);
    } else {
      for (let i = 0; i < bytes.length; i++) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    return Array.prototype.map.call(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  // ---- read receipts, typing, notices ------------------------------------

  function sendRead(seq) {
    if (seq <= lastReadSent || document.visibilityState !== "visible") {
      return;
    }
    if (send({ type: "read", seq: seq })) {
      lastReadSent = seq;
    }
  }

  function maybeSendRead() {
    const last = items().filter(function (el) {
      return el.dataset.seq;
    }).pop();
    if (last && last.dataset.direction === "out") {
      sendRead(lastSeq);
    }
  }

  function hideTyping() {
    window.clearTimeout(typingShowTimer);
    if (typingEl) {
      typingEl.hidden = true;
      typingEl.textContent = "";
    }
  }

  function stopTyping() {
    window.clearTimeout(typingIdleTimer);
    if (typingActive) {
      typingActive = false;
      typingSentAt = 0;
      send({ type: "typing", typing: false });
    }
  }

  function noteTyping() {
    if (ended || !isOpen()) {
      return;
    }
    const now = Date.now();
    if (!typingActive || now - typingSentAt >= TYPING_EVERY_MS) {
      if (send({ type: "typing", typing: true })) {
        typingActive = true;
        typingSentAt = now;
      }
    }
    window.clearTimeout(typingIdleTimer);
    typingIdleTimer = window.setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function showNotice(text) {
    if (!noticeEl) {
      return;
    }
    noticeEl.textContent = text;
    noticeEl.hidden = false;
    window.clearTimeout(noticeTimer);
    noticeTimer = window.setTimeout(function () {
      noticeEl.hidden = true;
      noticeEl.textContent = "";
    }, NOTICE_MS);
  }

  function setEnded() {
    ended = true;
    root.dataset.ended = "true";
    stopTyping();
    hideTyping();
    if (endedBanner) {
      endedBanner.hidden = false;
    }
    if (composer) {
      composer.hidden = true;
      composer.querySelectorAll("fieldset, textarea, button").forEach(function (el) {
        el.disabled = true;
      });
    }
  }

  // ---- composer ----------------------------------------------------------

  function submitComposer(event) {
    // Without an open socket the browser posts the form: sending still works.
    if (!isOpen()) {
      return;
    }
    event.preventDefault();
    if (ended) {
      return;
    }
    const body = bodyInput.value.trim();
    if (body === "") {
      bodyInput.focus();
      return;
    }
    const id = newClientMessageId();
    thread.appendChild(pendingItem(id, body));
    scrollToBottom();
    outbox.set(id, body);
    stopTyping();
    send({ type: "send", clientMessageId: id, body: body });
    bodyInput.value = "";
    autoGrow();
    if (composerError) {
      composerError.hidden = true;
      bodyInput.removeAttribute("aria-invalid");
      bodyInput.removeAttribute("aria-describedby");
    }
    bodyInput.focus();
  }

  function autoGrow() {
    // CSSOM changes are allowed by the style-src CSP; style attributes in
    // markup are not.
    bodyInput.style.height = "auto";
    bodyInput.style.height = bodyInput.scrollHeight + 2 + "px";
  }

  if (composer && bodyInput) {
    composer.addEventListener("submit", submitComposer);
    bodyInput.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) {
        return;
      }
      event.preventDefault();
      if (typeof composer.requestSubmit === "function") {
        composer.requestSubmit();
      } else {
        const button = composer.querySelector('button[type="submit"]');
        if (button) {
          button.click();
        }
      }
    });
    bodyInput.addEventListener("input", function () {
      autoGrow();
      if (bodyInput.value.trim() === "") {
        stopTyping();
      } else {
        noteTyping();
      }
    });
  }

  // ---- page lifecycle ------------------------------------------------------

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") {
      return;
    }
    maybeSendRead();
    if (socket === null && root.dataset.socketUrl) {
      connect();
    }
  });

  window.addEventListener("online", function () {
    if (socket === null && root.dataset.socketUrl) {
      connect();
    }
  });

  // A page going into the back/forward cache closes its socket and opens a
  // new one when it is shown again.
  window.addEventListener("pagehide", function () {
    leaving = true;
    window.clearTimeout(reconnectTimer);
    reconnectTimer = 0;
    if (socket !== null) {
      socket.close(1000, "page hidden");
      socket = null;
    }
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted && root.dataset.socketUrl) {
      leaving = false;
      connect();
    }
  });

  localizeTimes(thread);
  scrollToBottom();
  if (ended) {
    setEnded();
  }
  if (root.dataset.socketUrl) {
    connect();
  }
})();
