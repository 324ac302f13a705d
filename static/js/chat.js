// chat.js continues a server-rendered conversation live over a websocket.
//
// The thread itself (resume after the last rendered message, sends with a
// client id so the server can deduplicate retries, acks, errors, typing,
// read receipts) is chat-core.js's; this file adds the customer's side: the
// agent's typing, the assistant badge, answering the assistant's questions,
// and what ending or reopening the conversation shows. A send while the
// socket is down waits in chat-core.js's outbox; the plain form POSTs are
// for browsers without JavaScript or websockets. The protocol is in
// DESIGN.md §5.
(function () {
  "use strict";

  const root = document.getElementById("chat");
  if (!root || !window.handoffChat) {
    return;
  }

  const endedBanner = root.querySelector('[data-testid="ended-banner"]');
  const assistantBadge = root.querySelector('[data-testid="chat-assistant"]');
  const assignee = root.querySelector('[data-testid="chat-assignee"]');
  const ratingForm = root.querySelector('[data-testid="rating-form"]');
  const ratingThanks = root.querySelector('[data-testid="rating-thanks"]');
  const composer = root.querySelector("#composer");
  const thread = root.querySelector("#thread");

  const QUESTION = '[data-testid="question"]';

  // ---- hand-off token (embedded frames) ---------------------------------
  //
  // An embedded chat page carries a hand-off token. It opens the chat in a
  // new tab (the open-in-tab form) and, where the browser kept no cookie in
  // the frame (data-auth="token"), authenticates the socket and the forms.
  // It lives in memory only: it is taken off the element and the address,
  // and refreshed over the socket before it expires.
  const tokenAuth = root.dataset.auth === "token";
  const openForm = root.querySelector('[data-testid="open-in-tab"]');
  const TOKEN_REFRESH_MS = 4 * 60 * 1000;
  let token = root.dataset.token || (openForm ? openForm.elements.token.value : "");
  let tokenTimer = 0;
  delete root.dataset.token;
  if (tokenAuth && window.location.search.indexOf("token=") >= 0) {
    const here = new URL(window.location.href);
    here.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", here.pathname + here.search + here.hash);
  }

  const embedded = new URLSearchParams(window.location.search).get("embed") === "1";

  // embedPath keeps path in the frame's embed mode (and token).
  function embedPath(path) {
    const url = new URL(path, window.location.href);
    const here = new URLSearchParams(window.location.search);
    ["embed", "host"].forEach(function (key) {
      if (here.has(key)) {
        url.searchParams.set(key, here.get(key));
      }
    });
    if (tokenAuth) {
      url.searchParams.set("token", token);
    }
    return url.pathname + url.search + url.hash;
  }

  // embedForms points the plain forms in scope (the rating, answers
  // without websockets, and pushed questions rendered for every viewer) at
  // embed-mode addresses with the current token.
  function embedForms(scope) {
    if (!embedded) {
      return;
    }
    scope.querySelectorAll("form[action]").forEach(function (form) {
      if (form !== openForm) {
        form.setAttribute("action", embedPath(form.getAttribute("action")));
      }
    });
  }

  function setToken(next) {
    token = next;
    if (openForm) {
      openForm.elements.token.value = token;
    }
    if (tokenAuth) {
      embedForms(root);
    }
  }

  function requestToken() {
    window.clearTimeout(tokenTimer);
    tokenTimer = window.setTimeout(requestToken, TOKEN_REFRESH_MS);
    chat.sendFrame({ type: "token" });
  }

  if (openForm) {
    // The token opens the chat in one tab once: fetch the next one.
    openForm.addEventListener("submit", function () {
      window.setTimeout(requestToken, 0);
    });
  }

  // withToken points a message's file links and previews at addresses that
  // carry the current token, where no cookie authenticates the frame.
  function withToken(scope) {
    if (!tokenAuth) {
      return;
    }
    scope.querySelectorAll('[data-testid="attachment-image"]').forEach(function (img) {
      img.src = embedPath(img.getAttribute("src"));
    });
    scope.querySelectorAll('a[data-testid^="attachment"]').forEach(function (a) {
      a.href = embedPath(a.getAttribute("href"));
    });
  }
  if (tokenAuth) {
    // A link clicked later gets the token current then.
    root.addEventListener("click", function (event) {
      const a = event.target.closest ? event.target.closest('a[data-testid^="attachment"]') : null;
      if (a) {
        a.href = embedPath(a.getAttribute("href"));
      }
    });
  }

  const chat = window.handoffChat.startThread(root, {
    adopt: withToken,
    // Authenticated as the page is: the embed mode and token carried along,
    // and the page's language for the answer's errors.
    uploadURL: function () {
      const path = embedPath("/conversations/" + root.dataset.conversationId + "/attachments");
      const lang = document.documentElement.lang;
      return lang ? path + (path.indexOf("?") < 0 ? "?" : "&") + "lang=" + encodeURIComponent(lang) : path;
    },
    socketPath: tokenAuth
      ? function () {
        return embedPath(root.dataset.socketUrl);
      }
      : root.dataset.socketUrl,
    onOpen: function () {
      if (token) {
        requestToken();
      }
    },
    onFrame: function (frame) {
      if (frame.type === "token" && typeof frame.token === "string" && frame.token !== "") {
        setToken(frame.token);
      }
    },
    ownDirection: "in",
    ownAuthorType: "customer",
    // An answer to an assistant's question carries its payload object.
    sendFields: function (entry) {
      return entry.payload ? { payload: entry.payload } : {};
    },
    // Only the newest assistant question can be live: any message after a
    // question (the answer, or the assistant moving on) spends it.
    onMessage: function (item) {
      attention(item);
      embedForms(item);
      thread.querySelectorAll(QUESTION).forEach(function (question) {
        if (!item.contains(question) && question.compareDocumentPosition(item) & Node.DOCUMENT_POSITION_FOLLOWING) {
          spend(question);
        }
      });
    },
    typingLabel: function (author) {
      if (author.type === "customer") {
        return "";
      }
      const name = author.displayName || window.handoffChat.t("support", "Support");
      return window.handoffChat.t("typing", "{name} is typing…").replace("{name}", name);
    },
    onConversation: function (conversation) {
      if (typeof conversation.isInAssistantMode === "boolean" && assistantBadge) {
        assistantBadge.hidden = !conversation.isInAssistantMode;
      }
      if (assignee) {
        const name = conversation.assigneeName || "";
        const nameEl = assignee.querySelector("[data-assignee-name]");
        if (nameEl) {
          nameEl.textContent = name;
        }
        assignee.hidden = name === "" || conversation.ended === true;
      }
      if (conversation.ended === true) {
        showEnded(true);
      } else if (conversation.ended === false && chat.isEnded()) {
        showEnded(false);
      }
    },
  });

  // ---- a reply while the tab is hidden --------------------------------------

  // While the page is hidden, each reply adds to a count in the title, the
  // icon gets a badge, and a short tone sounds unless the customer muted
  // it (kept in localStorage). All of it clears when the page is seen.
  const baseTitle = document.title;
  const icon = document.querySelector('link[rel="icon"]');
  const baseIcon = icon ? icon.getAttribute("href") : "";
  const soundToggle = root.querySelector('[data-testid="sound-toggle"]');
  const SOUND_KEY = "handoff:sound";
  let unseen = 0;
  let audio = null;

  function soundOn() {
    try {
      return window.localStorage.getItem(SOUND_KEY) !== "off";
    } catch (e) {
      return true;
    }
  }

  function showSoundToggle() {
    if (!soundToggle) {
      return;
    }
    soundToggle.hidden = false;
    soundToggle.setAttribute("aria-pressed", soundOn() ? "true" : "false");
  }

  if (soundToggle) {
    showSoundToggle();
    soundToggle.addEventListener("click", function () {
      try {
        window.localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
      } catch (e) {
        // private mode: the choice lasts this page
      }
      showSoundToggle();
    });
  }

  function tone() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) {
      return;
    }
    try {
      audio = audio || new Ctx();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
    } catch (e) {
      // a browser that will not play: the title and the icon still say it
    }
  }

  function attention(item) {
    if (!document.hidden || item.dataset.direction !== "out" || item.dataset.authorType === "system") {
      return;
    }
    unseen += 1;
    document.title = "(" + unseen + ") " + baseTitle;
    if (icon) {
      icon.setAttribute("href", "/static/img/logo-unread.svg");
    }
    root.dataset.unseen = String(unseen);
    if (soundOn()) {
      tone();
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && unseen > 0) {
      unseen = 0;
      document.title = baseTitle;
      if (icon) {
        icon.setAttribute("href", baseIcon);
      }
      delete root.dataset.unseen;
    }
  });

  // ---- assistant questions ------------------------------------------------

  // visited holds, per deflection question, the ids of the articles the
  // customer opened; the answer reports them.
  const visited = new WeakMap();

  // spend disables a question's controls: it was answered, or is no longer
  // the one the assistant waits for.
  function spend(question) {
    question.dataset.live = "false";
    question.querySelectorAll("button, input, select, textarea").forEach(function (el) {
      el.disabled = true;
    });
  }

  function liveQuestion(el) {
    const question = el.closest(QUESTION);
    return question && thread.contains(question) && question.dataset.live === "true" ? question : null;
  }

  function noteArticle(link) {
    const question = link.closest(QUESTION);
    const id = link.dataset.articleId || "";
    if (!question || id === "") {
      return;
    }
    let ids = visited.get(question);
    if (!ids) {
      ids = new Set();
      visited.set(question, ids);
    }
    ids.add(id);
    // The no-websocket form post reports the visit too.
    const form = question.querySelector('[data-testid="quick-replies"]');
    if (form && !Array.prototype.some.call(form.querySelectorAll('input[name="visited"]'), function (input) {
      return input.value === id;
    })) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "visited";
      input.value = id;
      form.appendChild(input);
    }
  }

  // answer sends body and payload for question over the socket (now, or
  // from the outbox once it is back). It returns false when the page cannot
  // go live: the caller's form then posts.
  function answer(question, body, payload) {
    if (question.querySelector('[data-testid="article-link"]')) {
      payload.visited = Array.from(visited.get(question) || []);
    }
    const result = chat.send({ body: body, payload: payload });
    if (result === "closed") {
      return false;
    }
    if (result === "queued") {
      spend(question);
    }
    return true;
  }

  function onThreadClick(event) {
    const link = event.target.closest('[data-testid="article-link"]');
    if (link) {
      noteArticle(link);
      return;
    }
    const button = event.target.closest('[data-testid="quick-reply"]');
    if (!button || button.disabled) {
      return;
    }
    const question = liveQuestion(button);
    if (!question) {
      return;
    }
    const payload = { step: question.dataset.step || "", payload: button.dataset.payload || "" };
    if (answer(question, button.dataset.label || button.textContent.trim(), payload)) {
      event.preventDefault();
    }
  }

  function onThreadSubmit(event) {
    const form = event.target;
    if (!form.matches('[data-testid="attribute-answer"]')) {
      return;
    }
    const question = liveQuestion(form);
    const input = form.querySelector('[name="body"]');
    if (!question || !input) {
      return;
    }
    const body = input.value.trim();
    if (body === "") {
      event.preventDefault();
      input.focus();
      return;
    }
    if (answer(question, body, { step: question.dataset.step || "" })) {
      event.preventDefault();
    }
  }

  if (thread) {
    thread.addEventListener("click", onThreadClick);
    // A middle click opens an article too.
    thread.addEventListener("auxclick", function (event) {
      const link = event.target.closest('[data-testid="article-link"]');
      if (link) {
        noteArticle(link);
      }
    });
    thread.addEventListener("submit", onThreadSubmit);
  }

  // showEnded switches the page between an ended conversation (banner and
  // rating, no composer) and an open one (after an agent reopened it).
  const statusEl = root.querySelector('[data-testid="connection-status"]');

  function showEnded(ended) {
    chat.setEnded(ended);
    // One ended state: the pill says Ended (and no longer Live), the rating
    // comes first, then starting anew.
    if (statusEl && ended) {
      statusEl.dataset.state = "ended";
      statusEl.textContent = window.handoffChat.t("ended_status", "Ended");
    } else if (statusEl && statusEl.dataset.state === "ended") {
      statusEl.dataset.state = "live";
      statusEl.textContent = window.handoffChat.t("live", "Live");
    }
    if (endedBanner) {
      endedBanner.hidden = !ended;
    }
    if (ratingForm) {
      ratingForm.hidden = !ended;
    }
    if (ratingThanks) {
      ratingThanks.hidden = !ended;
    }
    if (assignee) {
      assignee.hidden = ended;
    }
    if (ended && thread) {
      thread.querySelectorAll(QUESTION).forEach(spend);
    }
    if (composer) {
      composer.hidden = ended;
      composer.querySelectorAll("fieldset, textarea, button").forEach(function (el) {
        el.disabled = ended;
      });
    }
  }

  if (chat.isEnded()) {
    showEnded(true);
  }
})();
