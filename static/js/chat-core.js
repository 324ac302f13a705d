// chat-core.js is the live-thread machinery shared by the customer chat
// (chat.js) and the agent console (agent.js).
//
// It defines one name, window.handoffChat, with two parts:
//   - liveSocket: a websocket that reconnects with jittered backoff, pauses
//     while the page is in the back/forward cache and shows its state in a
//     status pill;
//   - startThread: a server-rendered thread continued over that socket with
//     the protocol of DESIGN.md §5 (hello/afterSeq resume, message frames
//     deduplicated by seq, local bubbles replaced by clientMessageId, acks,
//     errors with Retry, typing both ways, read receipts while visible),
//     and an outbox: a send while the socket is down waits, shown as such,
//     and goes out when it is back, so the page never posts and navigates;
//     the outbox and the composer's draft outlive a reload.
// The page scripts add what differs: who "I" am, extra send fields, what a
// conversation frame changes on the page.
(function () {
  "use strict";

  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const TYPING_EVERY_MS = 3000;
  const TYPING_IDLE_MS = 4000;
  const TYPING_SHOW_MS = 6000;
  const NOTICE_MS = 6000;
  const OPEN = 1;

  // WORDS are the page's texts in its language, which the server renders as
  // JSON in <meta name="handoff-words">; a page without them (the agent
  // console) keeps the English ones written below.
  const WORDS = (function () {
    const el = document.querySelector('meta[name="handoff-words"]');
    try {
      return el ? JSON.parse(el.content) || {} : {};
    } catch (e) {
      return {};
    }
  })();

  // t is the text key in the page's language, else english.
  function t(key, english) {
    return typeof WORDS[key] === "string" && WORDS[key] !== "" ? WORDS[key] : english;
  }

  // ---- socket ------------------------------------------------------------

  // liveSocket keeps a websocket to path open (a string, or a function
  // returning the path at each connect). options:
  //   statusEl           the status pill (data-state offline/connecting/live/reconnecting)
  //   onOpen(first)      called once the socket is open, before the pill says live
  //   onFrame(frame)     every JSON object frame
  //   onClose()          called when an open or opening socket closes
  // It returns {connect, send(frame) -> bool, isOpen, isClosed}.
  function liveSocket(path, options) {
    const statusEl = options.statusEl || null;
    let socket = null;
    let attempt = 0;
    let openedAt = 0;
    let reconnectTimer = 0;
    let everLive = false;
    let leaving = false;

    function setStatus(state, text) {
      if (!statusEl || statusEl.dataset.state === "ended") {
        return; // an ended conversation says so, whatever its socket does
      }
      statusEl.dataset.state = state;
      statusEl.textContent = text;
    }

    function socketURL() {
      const url = new URL(typeof path === "function" ? path() : path, window.location.href);
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
      if (!path || leaving || (socket !== null && socket.readyState <= OPEN)) {
        return;
      }
      if (everLive) {
        setStatus("reconnecting", t("reconnecting", "Reconnecting…"));
      } else {
        setStatus("connecting", t("connecting", "Connecting…"));
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
        const first = !everLive;
        everLive = true;
        if (options.onOpen) {
          options.onOpen(first);
        }
        setStatus("live", t("live", "Live"));
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
        if (frame && typeof frame === "object" && options.onFrame) {
          options.onFrame(frame);
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
        if (options.onClose) {
          options.onClose();
        }
        if (!leaving) {
          scheduleReconnect();
        }
      });
    }

    function scheduleReconnect() {
      if (reconnectTimer || leaving) {
        return;
      }
      setStatus("reconnecting", t("reconnecting", "Reconnecting…"));
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
      attempt += 1;
      // Jitter spreads reconnects when a server restart drops many clients.
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      reconnectTimer = window.setTimeout(connect, delay);
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && socket === null) {
        connect();
      }
    });

    window.addEventListener("online", function () {
      if (socket === null) {
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
      if (event.persisted) {
        leaving = false;
        connect();
      }
    });

    return {
      connect: connect,
      send: send,
      isOpen: isOpen,
      isClosed: function () {
        return socket === null;
      },
    };
  }

  // ---- storage ---------------------------------------------------------------
  //
  // The composer's draft and the messages not stored yet are kept in
  // sessionStorage, not localStorage: they outlive a reload, and a closed
  // tab brought back, but stay with their tab, so two tabs of one chat
  // never overwrite or send each other's, and nothing a customer wrote
  // stays behind on a shared computer once the tab is closed. Storage is
  // optional: an embedded frame may be refused it (access throws), and a
  // full one refuses writes; the page then works without it.

  function sessionStore() {
    try {
      return window.sessionStorage || null;
    } catch (err) {
      return null;
    }
  }

  // readStored returns the value under key, "" when there is none.
  function readStored(key) {
    const store = sessionStore();
    if (!store || !key) {
      return "";
    }
    try {
      return store.getItem(key) || "";
    } catch (err) {
      return "";
    }
  }

  // writeStored keeps value under key; "" removes it.
  function writeStored(key, value) {
    const store = sessionStore();
    if (!store || !key) {
      return;
    }
    try {
      if (value === "") {
        store.removeItem(key);
      } else {
        store.setItem(key, value);
      }
    } catch (err) {
      // Refused or full: the page goes on without it.
    }
  }

  // ---- helpers -------------------------------------------------------------

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // clockFormat writes a time of day in the page's language.
  const clockFormat = (function () {
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, { hour: "numeric", minute: "2-digit" });
    } catch (e) {
      return null;
    }
  })();

  // localizeTimes shows message times in the reader's time zone and
  // language.
  function localizeTimes(scope) {
    scope.querySelectorAll("time.msg-time[datetime]").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (!Number.isNaN(when.getTime())) {
        el.textContent = clockFormat ? clockFormat.format(when) : pad(when.getHours()) + ":" + pad(when.getMinutes());
        el.title = when.toLocaleString(document.documentElement.lang || undefined);
      }
    });
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

  // bubble builds the markup of views.MessageItem for a message that has no
  // server html (a bubble still being sent, or a frame without html).
  function bubble(opts) {
    const li = document.createElement("li");
    li.className = "msg msg-" + opts.direction + " msg-" + opts.authorType;
    if (opts.mine) {
      li.classList.add("msg-mine");
    }
    li.dataset.testid = "message";
    li.dataset.direction = opts.direction;
    li.dataset.authorType = opts.authorType;
    if (opts.private) {
      li.classList.add("msg-private");
      li.dataset.private = "true";
    }
    const wrap = document.createElement("div");
    wrap.className = "msg-bubble";
    const meta = document.createElement("p");
    meta.className = "msg-meta";
    if (opts.private) {
      const label = document.createElement("span");
      label.className = "msg-private-label";
      label.dataset.testid = "private-label";
      label.textContent = "Private note";
      meta.appendChild(label);
    }
    const author = document.createElement("span");
    author.className = "msg-author";
    author.dataset.testid = "message-author";
    author.textContent = opts.author;
    meta.appendChild(author);
    const body = document.createElement("div");
    body.className = "msg-body";
    body.dataset.testid = "message-body";
    body.textContent = opts.body;
    wrap.append(meta, body);
    li.appendChild(wrap);
    return li;
  }

  // ---- thread ----------------------------------------------------------------

  // startThread continues the thread of root (#thread inside it, the
  // composer #composer) live. root's data attributes: socket-url, last-seq,
  // ended. options:
  //   ownDirection       "in" for the customer, "out" for an agent
  //   ownAuthorType      "customer" or "agent", for pending bubbles
  //   noticeSelector     the element for passing notices
  //   entry(body)        what a send carries besides the body ({private})
  //   sendFields(entry)  extra fields of the send frame
  //   blockReason(entry) why a send is refused now ("" when allowed)
  //   typingLabel(author) the text for someone else's typing ("" to ignore)
  //   sendTyping()       whether the local typing is announced now
  //   onConversation(c)  a conversation frame
  //   onMessage(item)    a message item just added to the thread
  //   onFrame(frame)     any frame of another type
  //   onOpen()           after each (re)connect's hello
  //   socketPath         the socket's path, or a function returning it at
  //                      each connect (default root's data-socket-url)
  //   storagePrefix      the prefix of the draft's and the unsent messages'
  //                      storage keys, which end in root's
  //                      data-conversation-id (default "handoff")
  // It returns {isEnded, setEnded(flag), stopTyping, showNotice, send(entry),
  // sendFrame(frame) -> bool}.
  //
  // A message of one's own that the server has not stored yet is a local
  // bubble in one of three send states, named in its note (text, not only a
  // colour) and in data-send-state:
  //   waiting  in the outbox while the socket is down; sent when it is back;
  //   sending  sent, not acknowledged yet; waiting again if the socket drops;
  //   failed   refused by the server; Retry puts it back in the outbox.
  function startThread(root, options) {
    const ownDirection = options.ownDirection || "in";
    const otherDirection = ownDirection === "in" ? "out" : "in";
    const thread = root.querySelector("#thread");
    const typingEl = root.querySelector('[data-testid="typing"]');
    const noticeEl = root.querySelector(options.noticeSelector || '[data-testid="notice"]');
    const composer = root.querySelector("#composer");
    const bodyInput = composer ? composer.querySelector('textarea[name="body"]') : null;
    const composerError = composer ? composer.querySelector("#composer-error") : null;
    // The composer refuses a message over maxLength characters (as the
    // server counts them) before sending, and shows a counter near the
    // limit; it never cuts the text.
    const maxLength = bodyInput ? Number(bodyInput.dataset.maxLength) || 0 : 0;
    const counter = composer ? composer.querySelector('[data-testid="composer-count"]') : null;

    function length(text) {
      return Array.from(text).length;
    }

    function tooLongText(n) {
      return t("too_long", "{count} of {max} characters: shorten your message to send it.")
        .replace("{count}", String(n)).replace("{max}", String(maxLength));
    }

    // showCount updates the counter: hidden until 90% of the limit, then
    // "n / max", and the too-long sentence past it.
    function showCount() {
      if (!counter || !maxLength) {
        return;
      }
      const n = length(bodyInput.value.trim());
      counter.hidden = n < maxLength * 0.9;
      const over = n > maxLength;
      counter.classList.toggle("over", over);
      counter.textContent = over ? tooLongText(n) : n + " / " + maxLength;
      if (over) {
        bodyInput.setAttribute("aria-invalid", "true");
      } else if (!composerError || composerError.hidden) {
        bodyInput.removeAttribute("aria-invalid");
      }
    }

    const entryOf = options.entry || function () {
      return {};
    };
    const sendFields = options.sendFields || function () {
      return {};
    };
    const blockReason = options.blockReason || function () {
      return ended ? t("ended", "This conversation has ended.") : "";
    };
    const typingLabel = options.typingLabel || function () {
      return "";
    };
    const sendTyping = options.sendTyping || function () {
      return true;
    };

    // Without websockets (or a socket to open) the composer's form posts.
    const canGoLive = Boolean(root.dataset.socketUrl) && typeof window.WebSocket === "function";
    const conversationId = root.dataset.conversationId || "";
    const storagePrefix = options.storagePrefix || "handoff";
    const draftKey = conversationId ? storagePrefix + ":draft:" + conversationId : "";
    const unsentKey = conversationId ? storagePrefix + ":unsent:" + conversationId : "";
    let lastSeq = Number.parseInt(root.dataset.lastSeq || "0", 10) || 0;
    let lastReadSent = 0;
    let ended = root.dataset.ended === "true";

    // outbox holds sends not yet acknowledged, by clientMessageId, oldest
    // first; they are sent, in that order, after every (re)connect (the
    // server deduplicates by the id).
    const outbox = new Map();
    // failed holds sends the server rejected, kept for the Retry button.
    const failed = new Map();

    let typingSentAt = 0;
    let typingActive = false;
    let typingIdleTimer = 0;
    let typingShowTimer = 0;
    let noticeTimer = 0;

    function sendFrame(id, entry) {
      const frame = { type: "send", clientMessageId: id, body: entry.body };
      if (entry.attachments) {
        frame.attachments = entry.attachments;
      }
      return socket.send(Object.assign(frame, sendFields(entry)));
    }

    const socket = liveSocket(options.socketPath || root.dataset.socketUrl || "", {
      statusEl: root.querySelector('[data-testid="connection-status"]'),
      onOpen: function () {
        socket.send({ type: "hello", afterSeq: lastSeq });
        flush();
        document.documentElement.dataset.chatReady = "true";
        maybeSendRead();
        if (options.onOpen) {
          options.onOpen();
        }
      },
      onFrame: handleFrame,
      onClose: function () {
        typingActive = false;
        hideTyping();
        // What was sent but not acknowledged goes again on reconnect.
        outbox.forEach(function (entry, id) {
          const local = findLocal(id);
          if (local) {
            setSendState(local, "waiting");
          }
        });
      },
    });

    // flush sends the outbox, oldest first, with the ids the messages were
    // queued with.
    // scheduleFlush sends the outbox again after ms, once however many
    // sends asked for it.
    let flushTimer = 0;
    function scheduleFlush(ms) {
      if (flushTimer) {
        return;
      }
      flushTimer = window.setTimeout(function () {
        flushTimer = 0;
        flush();
      }, ms);
    }

    function flush() {
      outbox.forEach(function (entry, id) {
        dispatch(id, entry);
      });
    }

    // dispatch sends one outbox message if the socket is open and shows
    // whether it went or waits.
    function dispatch(id, entry) {
      // After a rate_limited answer nothing overtakes the refused
      // messages: new ones wait for the scheduled flush too, which sends
      // the outbox in order.
      const sent = !flushTimer && sendFrame(id, entry);
      const local = findLocal(id);
      if (local) {
        setSendState(local, sent ? "sending" : "waiting");
      }
      return sent;
    }

    // ---- frames --------------------------------------------------------------

    // seenSeq is how far the other side has read; the last of my messages
    // within it says "Seen".
    let seenSeq = Number(root.dataset.seenSeq) || 0;
    // Messages the team's system accepted (relay mode), in case that news
    // comes before the message's own acknowledgement.
    const relayed = new Set();

    function showSeen() {
      let last = null;
      items().forEach(function (li) {
        const seq = Number(li.dataset.seq) || 0;
        if (seq > 0 && seq <= seenSeq && li.dataset.direction === ownDirection && li.dataset.authorType !== "system") {
          last = li;
        }
      });
      thread.querySelectorAll(".msg-seen").forEach(function (el) {
        if (!last || el.parentElement !== last) {
          el.remove();
        }
      });
      if (last && !last.querySelector(".msg-seen")) {
        const mark = document.createElement("p");
        mark.className = "msg-seen";
        mark.dataset.testid = "seen";
        mark.textContent = t("seen", "Seen");
        last.appendChild(mark);
      }
    }

    function handleFrame(frame) {
      switch (frame.type) {
        case "message":
          onMessage(frame);
          if (frame.message && relayed.has(frame.message.messageId)) {
            markRelayed(frame.message.messageId);
          }
          showSeen();
          break;
        case "ack":
          onAck(frame);
          showSeen();
          break;
        case "conversation":
          if (options.onConversation) {
            options.onConversation(frame.conversation || {});
          }
          break;
        case "typing":
          onTyping(frame);
          break;
        case "seen":
          seenSeq = Math.max(seenSeq, Number(frame.seq) || 0);
          showSeen();
          break;
        case "relayed":
          markRelayed(String(frame.messageId || ""));
          break;
        case "relaying": {
          // As the socket goes live: the messages still being passed on;
          // the others arrived meanwhile.
          const still = new Set(Array.isArray(frame.messageIds) ? frame.messageIds : []);
          items().forEach(function (li) {
            if (li.querySelector(".msg-relay") && li.dataset.messageId && !still.has(li.dataset.messageId)) {
              markRelayed(li.dataset.messageId);
            }
          });
          break;
        }
        case "error":
          onError(frame);
          break;
        default:
          if (options.onFrame) {
            options.onFrame(frame);
          }
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
      if (options.adopt) {
        options.adopt(item);
      }

      const clientId = message.clientMessageId || item.dataset.clientMessageId || "";
      const local = clientId ? findLocal(clientId) : null;
      if (local) {
        local.replaceWith(item);
        outbox.delete(clientId);
        failed.delete(clientId);
        saveUnsent();
      } else {
        insertInOrder(item, seq);
      }

      regroup(item);
      if (item.nextElementSibling) {
        regroup(item.nextElementSibling);
      }
      if (seq > lastSeq) {
        lastSeq = seq;
        root.dataset.lastSeq = String(lastSeq);
      }
      if (options.onMessage) {
        options.onMessage(item);
      }
      if (message.direction !== ownDirection) {
        hideTyping();
      }
      scrollToBottom();
      if ((message.direction || item.dataset.direction) === otherDirection) {
        sendRead(seq);
      }
    }

    // regroup shows li under the message before it, without its author
    // again, when both are one author's within five minutes (as the server
    // renders a reloaded thread).
    function regroup(li) {
      const prev = li.previousElementSibling;
      const key = li.dataset.authorKey || "";
      const when = function (el) {
        const t = el && el.querySelector("time[datetime]");
        return t ? Date.parse(t.getAttribute("datetime")) : NaN;
      };
      const gap = when(li) - when(prev);
      li.classList.toggle("msg-grouped", Boolean(prev) && key !== "" && prev.dataset.authorKey === key &&
        prev.classList.contains("msg-mine") === li.classList.contains("msg-mine") && gap >= 0 && gap < 5 * 60 * 1000);
    }

    function onAck(frame) {
      const id = frame.clientMessageId;
      if (!id) {
        return;
      }
      outbox.delete(id);
      failed.delete(id);
      saveUnsent();
      // The message frame may already have replaced the bubble; then there
      // is no local bubble left and nothing to do.
      const local = findLocal(id);
      if (!local) {
        return;
      }
      // Sent again after a reload but stored before it: the page shows the
      // stored message already.
      if (frame.messageId && findServerMessage(frame.messageId)) {
        local.remove();
        return;
      }
      setSendState(local, "");
      if (frame.messageId) {
        local.dataset.messageId = frame.messageId;
      }
      if (frame.relaying && !relayed.has(frame.messageId)) {
        showRelaying(local);
      }
      if (frame.seq) {
        local.dataset.seq = String(frame.seq);
      }
    }

    function onTyping(frame) {
      // Typing of authors the page ignores (one's own side) changes nothing.
      const label = typingLabel(frame.author || {});
      if (!label) {
        return;
      }
      if (!frame.typing) {
        hideTyping();
        return;
      }
      if (!typingEl) {
        return;
      }
      typingEl.textContent = label;
      typingEl.hidden = false;
      window.clearTimeout(typingShowTimer);
      typingShowTimer = window.setTimeout(hideTyping, TYPING_SHOW_MS);
    }

    function onError(frame) {
      const text = frame.message || t("error", "Something went wrong.");
      const id = frame.clientMessageId;
      if (!id) {
        showNotice(text);
        return;
      }
      const entry = outbox.get(id);
      const local = findLocal(id);
      if (frame.code === "rate_limited" && frame.retryAfter > 0 && entry !== undefined && local) {
        // Sent faster than the chat accepts: it waits its turn and goes
        // again by itself, with the same clientMessageId.
        setSendState(local, "waiting");
        scheduleFlush(frame.retryAfter * 1000);
        return;
      }
      outbox.delete(id);
      if (!local) {
        showNotice(text);
        return;
      }
      failed.set(id, entry !== undefined ? entry : entryFromItem(local));
      // A message the server found invalid fails the same way again.
      markFailed(local, id, text, frame.code === "invalid");
      saveUnsent();
    }

    // ---- thread --------------------------------------------------------------

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
      const li = bubble({
        direction: direction,
        authorType: sentBy.type || (direction === "out" ? "agent" : "customer"),
        author: sentBy.displayName || (direction === "out" ? t("support", "Support") : t("customer", "Customer")),
        body: message.body || "",
        private: message.private === true,
      });
      li.dataset.seq = String(seq);
      li.dataset.messageId = message.messageId || "";
      li.dataset.clientMessageId = message.clientMessageId || "";
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

    function findByClientId(clientId) {
      return items().find(function (el) {
        return el.dataset.clientMessageId === clientId;
      }) || null;
    }

    // showRelaying says on a message that it is being passed on to the
    // team (relay mode), as the server renders it.
    function showRelaying(li) {
      if (li.querySelector(".msg-relay")) {
        return;
      }
      li.classList.add("msg-relaying");
      const note = document.createElement("p");
      note.className = "msg-relay";
      note.dataset.testid = "message-relaying";
      note.setAttribute("role", "status");
      note.textContent = t("relaying", "Passing it on to the team…");
      (li.querySelector(".msg-bubble") || li).appendChild(note);
    }

    // markRelayed drops the "being passed on" line of a message the team's
    // system accepted.
    function markRelayed(messageId) {
      if (!messageId) {
        return;
      }
      relayed.add(messageId);
      items().forEach(function (li) {
        if (li.dataset.messageId === messageId) {
          li.classList.remove("msg-relaying");
          li.querySelectorAll(".msg-relay").forEach(function (el) { el.remove(); });
        }
      });
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

    // The customer's thread scrolls inside its log region; the console's
    // thread scrolls itself.
    const scroller = thread.closest(".thread-log") || thread;

    function scrollToBottom() {
      scroller.scrollTop = scroller.scrollHeight;
    }

    function localItem(id, entry) {
      const li = bubble({
        direction: ownDirection,
        authorType: options.ownAuthorType || "customer",
        author: t("you", "You"),
        body: entry.body || (entry.fileNames ? "📎 " + entry.fileNames.join(", ") : ""),
        mine: true,
        private: entry.private === true,
      });
      li.dataset.local = "true";
      li.dataset.clientMessageId = id;
      return li;
    }

    const SEND_NOTES = { waiting: t("waiting", "Waiting to send"), sending: t("sending", "Sending…") };

    // setSendState shows a local bubble's send state ("" once it is
    // acknowledged); text replaces the state's note (a failure's reason).
    function setSendState(li, state, text) {
      li.classList.toggle("waiting", state === "waiting");
      li.classList.toggle("pending", state === "sending");
      li.classList.toggle("failed", state === "failed");
      if (state === "") {
        delete li.dataset.sendState;
        removeNote(li);
        return null;
      }
      li.dataset.sendState = state;
      return setNote(li, text || SEND_NOTES[state]);
    }

    function entryFromItem(li) {
      const el = li.querySelector(".msg-body");
      return { body: el ? el.textContent : "", private: li.dataset.private === "true" };
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

    // markFailed shows li's send as failed with text and a way on: Retry
    // when sending again may work, Edit (back to the composer) when the
    // message itself was refused (permanent).
    function markFailed(li, id, text, permanent) {
      li.dataset.sendError = text;
      if (permanent) {
        li.dataset.sendPermanent = "true";
      }
      const note = setSendState(li, "failed", text);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "msg-retry";
      if (permanent && bodyInput) {
        button.dataset.testid = "edit";
        button.textContent = t("edit", "Edit");
        button.addEventListener("click", function () {
          const entry = failed.get(id) || entryFromItem(li);
          failed.delete(id);
          li.remove();
          saveUnsent();
          bodyInput.value = entry.body || "";
          autoGrow();
          saveDraft();
          showCount();
          bodyInput.focus();
        });
      } else {
        button.dataset.testid = "retry";
        button.textContent = t("retry", "Retry");
        button.addEventListener("click", function () {
          retrySend(li, id);
        });
      }
      note.appendChild(button);
    }

    function retrySend(li, id) {
      const entry = failed.has(id) ? failed.get(id) : entryFromItem(li);
      const reason = blockReason(entry);
      if (reason) {
        showNotice(reason);
        return;
      }
      failed.delete(id);
      outbox.set(id, entry);
      delete li.dataset.sendError;
      saveUnsent();
      if (!dispatch(id, entry)) {
        socket.connect();
      }
    }

    // saveUnsent keeps the messages the server has not stored (waiting,
    // sending or refused), in thread order with their ids: after a reload
    // they are shown and sent again, and the server's deduplication by id
    // keeps a message that did arrive from being stored twice.
    function saveUnsent() {
      const records = [];
      items().forEach(function (li) {
        const id = li.dataset.local === "true" ? li.dataset.clientMessageId || "" : "";
        if (outbox.has(id)) {
          records.push({ id: id, entry: outbox.get(id) });
        } else if (failed.has(id)) {
          records.push({ id: id, entry: failed.get(id), error: li.dataset.sendError || "", permanent: li.dataset.sendPermanent === "true" });
        }
      });
      writeStored(unsentKey, records.length > 0 ? JSON.stringify(records) : "");
    }

    // restoreUnsent shows what was unsent before a reload again: waiting
    // and sending messages go back in the outbox, refused ones come back
    // with Retry. One the page already shows was stored before the reload.
    function restoreUnsent() {
      let records;
      try {
        records = JSON.parse(readStored(unsentKey) || "[]");
      } catch (err) {
        records = [];
      }
      if (!Array.isArray(records)) {
        records = [];
      }
      records.forEach(function (r) {
        if (!r || typeof r.id !== "string" || r.id === "" || !r.entry || typeof r.entry.body !== "string" ||
          outbox.has(r.id) || failed.has(r.id) || findByClientId(r.id)) {
          return;
        }
        const li = localItem(r.id, r.entry);
        thread.appendChild(li);
        if (typeof r.error === "string") {
          failed.set(r.id, r.entry);
          markFailed(li, r.id, r.error || t("not_sent", "Not sent."), r.permanent === true);
        } else {
          outbox.set(r.id, r.entry);
          setSendState(li, "waiting");
        }
      });
      saveUnsent();
    }

    // ---- read receipts, typing, notices ----------------------------------------

    function sendRead(seq) {
      if (seq <= lastReadSent || document.visibilityState !== "visible") {
        return;
      }
      if (socket.send({ type: "read", seq: seq })) {
        lastReadSent = seq;
      }
    }

    function maybeSendRead() {
      const last = items().filter(function (el) {
        return el.dataset.seq;
      }).pop();
      if (last && last.dataset.direction === otherDirection) {
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
        socket.send({ type: "typing", typing: false });
      }
    }

    function noteTyping() {
      if (ended || !socket.isOpen()) {
        return;
      }
      if (!sendTyping()) {
        stopTyping();
        return;
      }
      const now = Date.now();
      if (!typingActive || now - typingSentAt >= TYPING_EVERY_MS) {
        if (socket.send({ type: "typing", typing: true })) {
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

    function setEnded(flag) {
      ended = flag;
      root.dataset.ended = flag ? "true" : "false";
      if (flag) {
        stopTyping();
        hideTyping();
      }
    }

    // ---- composer ----------------------------------------------------------------

    // send puts entry ({body} and what sendFields turns into frame fields)
    // in the outbox with a new clientMessageId and shows it: sending while
    // the socket is open, waiting otherwise. It returns "closed" when the
    // page cannot go live at all (the caller lets its form post), "refused"
    // when blockReason refuses it (a notice says why), "queued" otherwise.
    function send(entry) {
      if (!canGoLive) {
        return "closed";
      }
      const reason = blockReason(entry);
      if (reason) {
        showNotice(reason);
        return "refused";
      }
      const id = newClientMessageId();
      thread.appendChild(localItem(id, entry));
      scrollToBottom();
      outbox.set(id, entry);
      saveUnsent();
      stopTyping();
      if (!dispatch(id, entry)) {
        // Try now rather than when the backoff says.
        socket.connect();
      }
      return "queued";
    }

    function submitComposer(event) {
      // Without websockets the browser posts the form: sending still works.
      if (!canGoLive) {
        return;
      }
      const file = chosenFile();
      if (file && !uploadURL()) {
        return; // the form posts the file itself
      }
      event.preventDefault();
      const body = bodyInput.value.trim();
      if (maxLength && length(body) > maxLength) {
        showCount();
        showNotice(tooLongText(length(body)));
        bodyInput.focus();
        return;
      }
      const entry = Object.assign({}, entryOf(body), { body: body });
      const reason = blockReason(entry);
      if (reason) {
        showNotice(reason);
        return;
      }
      if (file) {
        uploadThenSend(file, entry);
        return;
      }
      if (body === "") {
        bodyInput.focus();
        return;
      }
      if (send(entry) !== "queued") {
        return;
      }
      clearComposer();
    }

    // clearComposer empties the composer after a send.
    function clearComposer() {
      bodyInput.value = "";
      if (fileInput) {
        fileInput.value = "";
      }
      // Fields that go with one send only (the console's quick replies).
      composer.querySelectorAll("[data-clear-on-send]").forEach(function (el) {
        el.value = "";
      });
      saveDraft();
      autoGrow();
      if (composerError) {
        composerError.hidden = true;
        bodyInput.removeAttribute("aria-invalid");
        bodyInput.removeAttribute("aria-describedby");
      }
      bodyInput.focus();
    }

    // ---- files -------------------------------------------------------------------

    // A file is chosen with the composer's file input, dropped on the
    // composer or pasted into it; on send it is uploaded first, then sent by
    // id over the socket with the words typed.
    const fileInput = composer ? composer.querySelector('input[type="file"]') : null;
    const uploadURL = typeof options.uploadURL === "function"
      ? options.uploadURL
      : function () {
        return composer ? composer.dataset.uploadUrl || "" : "";
      };

    function chosenFile() {
      return fileInput && fileInput.files && fileInput.files.length > 0 ? fileInput.files[0] : null;
    }

    // chooseFile puts a dropped or pasted file in the file input, so that it
    // shows there and goes with the next send.
    function chooseFile(file) {
      if (!fileInput || typeof DataTransfer !== "function") {
        return false;
      }
      const dt = new DataTransfer();
      dt.items.add(file);
      fileInput.files = dt.files;
      composer.classList.add("has-file");
      return true;
    }

    function uploadThenSend(file, entry) {
      const form = new FormData();
      form.append("file", file, file.name || "pasted-image.png");
      composer.classList.add("uploading");
      window.fetch(uploadURL(), { method: "POST", body: form, credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (res) {
          return res.json().catch(function () {
            return {};
          }).then(function (data) {
            return { ok: res.status === 201, data: data };
          });
        })
        .then(function (r) {
          if (!r.ok) {
            const e = r.data && r.data.errors && r.data.errors[0];
            showNotice(e && e.detail ? e.detail : t("upload_failed", "The file could not be uploaded."));
            return;
          }
          const sent = send(Object.assign({}, entry, { attachments: [{ id: r.data.id }], fileNames: [r.data.name] }));
          if (sent === "queued") {
            clearComposer();
          }
        })
        .catch(function () {
          showNotice(t("upload_offline", "The file could not be uploaded. Check your connection and try again."));
        })
        .finally(function () {
          composer.classList.remove("uploading");
        });
    }

    if (composer && fileInput && canGoLive && uploadURL()) {
      // The console's file row shows only where the script can upload.
      const row = fileInput.closest(".composer-attach");
      if (row) {
        row.hidden = false;
      }
      composer.addEventListener("dragover", function (event) {
        if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
          event.preventDefault();
          composer.classList.add("dragging");
        }
      });
      composer.addEventListener("dragleave", function () {
        composer.classList.remove("dragging");
      });
      composer.addEventListener("drop", function (event) {
        composer.classList.remove("dragging");
        const files = event.dataTransfer ? event.dataTransfer.files : null;
        if (files && files.length > 0) {
          event.preventDefault();
          chooseFile(files[0]);
        }
      });
      composer.addEventListener("paste", function (event) {
        const files = event.clipboardData ? event.clipboardData.files : null;
        if (files && files.length > 0) {
          event.preventDefault();
          chooseFile(files[0]);
        }
      });
    }

    // saveDraft keeps what the composer holds, unsent, for a reload.
    function saveDraft() {
      writeStored(draftKey, bodyInput.value.trim() === "" ? "" : bodyInput.value);
    }

    // restoreDraft puts a draft kept before a reload back in an empty
    // composer (a draft the server re-rendered wins).
    function restoreDraft() {
      const draft = readStored(draftKey);
      if (draft !== "" && bodyInput.value === "") {
        bodyInput.value = draft;
        autoGrow();
      }
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
        saveDraft();
        showCount();
        if (bodyInput.value.trim() === "") {
          stopTyping();
        } else {
          noteTyping();
        }
      });
    }

    // ---- page lifecycle --------------------------------------------------------

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        maybeSendRead();
      }
    });

    localizeTimes(thread);
    showSeen();
    if (canGoLive) {
      restoreUnsent();
    }
    if (composer && bodyInput) {
      restoreDraft();
    }
    scrollToBottom();
    if (ended) {
      setEnded(true);
    }
    if (canGoLive) {
      socket.connect();
    }

    return {
      isEnded: function () {
        return ended;
      },
      setEnded: setEnded,
      stopTyping: stopTyping,
      showNotice: showNotice,
      send: send,
      sendFrame: socket.send,
    };
  }

  window.handoffChat = Object.freeze({
    t: t,
    liveSocket: liveSocket,
    startThread: startThread,
  });
})();
