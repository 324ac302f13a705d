// agent.js makes the agent console live. It has two modes, chosen by the
// page:
//   - the inbox (#inbox): the inbox socket says when something changed and
//     the list (#inbox-list) is fetched again from its data-refresh-url; the
//     waiting times tick every 30 s in between;
//   - a conversation (#agent-chat): the transcript continues over the
//     conversation socket (chat-core.js), the composer sends replies or,
//     with the private toggle, notes; conversation frames refresh the side
//     panel (#panel) from its data-panel-url.
// Without JavaScript every page works through its plain links and forms.
(function () {
  "use strict";

  const SIGN_IN_PATH = "/agent/sign-in";
  const REFRESH_DEBOUNCE_MS = 250;
  const TICK_MS = 30000;
  const ENDED_REASON = "The conversation has ended — reopen it to reply";

  function signIn() {
    window.location.assign(SIGN_IN_PATH);
  }

  // fetchHTML gets a server-rendered fragment; it resolves to null when the
  // answer is not one (an error, or a redirect because the session ended).
  function fetchHTML(url) {
    return window.fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    }).then(function (response) {
      const path = new URL(response.url || url, window.location.href).pathname;
      if (path === SIGN_IN_PATH || response.status === 401) {
        signIn();
        return null;
      }
      if (!response.ok) {
        return null;
      }
      return response.text();
    }).catch(function () {
      return null;
    });
  }

  // refresher runs load() at most once at a time and again after a burst of
  // requests has settled: a request during a load queues one more load.
  function refresher(load) {
    let timer = 0;
    let running = false;
    let again = false;

    function run() {
      timer = 0;
      if (running) {
        again = true;
        return;
      }
      running = true;
      Promise.resolve(load()).finally(function () {
        running = false;
        if (again) {
          again = false;
          schedule();
        }
      });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, REFRESH_DEBOUNCE_MS);
    }

    return schedule;
  }

  // ---- inbox ----------------------------------------------------------------

  // shortDuration formats seconds like views.shortDuration: "<1 min",
  // "3 min", "2 h 5 min", "3 d 4 h".
  function shortDuration(totalSeconds) {
    const m = Math.floor(totalSeconds / 60);
    if (m < 1) {
      return "<1 min";
    }
    if (m < 60) {
      return m + " min";
    }
    if (m < 24 * 60) {
      return Math.floor(m / 60) + " h" + (m % 60 ? " " + (m % 60) + " min" : "");
    }
    const h = Math.floor((m % (24 * 60)) / 60);
    return Math.floor(m / (24 * 60)) + " d" + (h ? " " + h + " h" : "");
  }

  function startInbox(inbox) {
    const list = inbox.querySelector("#inbox-list");
    if (!list) {
      return;
    }
    // renderedAt is when the list's waiting times were true.
    let renderedAt = Date.now();

    const refresh = refresher(function () {
      const url = list.dataset.refreshUrl;
      if (!url) {
        return null;
      }
      return fetchHTML(url).then(function (html) {
        if (html === null) {
          return;
        }
        // The server renders InboxList with every value escaped.
        list.innerHTML = html;
        renderedAt = Date.now();
      });
    });

    function tick() {
      const elapsed = (Date.now() - renderedAt) / 1000;
      list.querySelectorAll("[data-waiting-seconds]").forEach(function (el) {
        const waited = Number(el.dataset.waitingSeconds) + elapsed;
        const text = el.querySelector(".waiting-text");
        if (text) {
          text.textContent = "waiting " + shortDuration(waited);
        }
        const target = Number(el.dataset.targetSeconds || 0);
        if (target > 0 && waited > target) {
          el.classList.add("overdue");
          const row = el.closest('[data-testid="inbox-row"]');
          if (row) {
            row.classList.add("overdue");
            row.dataset.overdue = "true";
          }
          const badge = el.querySelector('[data-testid="inbox-overdue"]');
          if (badge) {
            badge.hidden = false;
          }
        }
      });
    }

    window.handoffChat.liveSocket(inbox.dataset.socketUrl || "", {
      statusEl: inbox.querySelector('[data-testid="connection-status"]'),
      onOpen: function (first) {
        document.documentElement.dataset.inboxReady = "true";
        // Whatever happened while the socket was down is fetched once.
        if (!first) {
          refresh();
        }
      },
      onFrame: function (frame) {
        // alerts.js tells the agent of notices and counts on every page.
        document.dispatchEvent(new CustomEvent("handoff:console-frame", { detail: frame }));
        if (frame.type === "inbox") {
          refresh();
        } else if (frame.type === "signed_out") {
          signIn();
        }
      },
    }).connect();

    window.setInterval(tick, TICK_MS);
  }

  // ---- conversation ---------------------------------------------------------------

  function startConversation(root) {
    const panel = document.getElementById("panel");
    const composer = root.querySelector("#composer");
    const privateToggle = composer ? composer.querySelector('input[name="private"]') : null;
    const sendButton = composer ? composer.querySelector('[data-testid="agent-send"]') : null;
    const bodyInput = composer ? composer.querySelector('textarea[name="body"]') : null;
    const endedHint = root.querySelector('[data-testid="composer-ended"]');
    // panelStale is set when a refresh was skipped to keep the agent's
    // unsaved attribute edits; the panel is fetched once they are gone.
    let panelStale = false;

    function isPrivate() {
      return privateToggle !== null && privateToggle.checked;
    }

    // Quick replies: one button per line of the composer's box, sent with
    // the next reply (the label is the payload too); the box empties once
    // they are on their way.
    const repliesInput = composer ? composer.querySelector('textarea[name="quickReplies"]') : null;
    function quickReplies() {
      if (!repliesInput) {
        return [];
      }
      const labels = repliesInput.value.split("\n").map(function (s) {
        return s.trim();
      }).filter(function (s) {
        return s !== "";
      });
      return labels;
    }

    const chat = window.handoffChat.startThread(root, {
      ownDirection: "out",
      ownAuthorType: "agent",
      // Apart from a customer's draft and unsent messages in the same tab.
      storagePrefix: "handoff:agent",
      noticeSelector: '[data-testid="chat-notice"]',
      entry: function () {
        return { private: isPrivate(), quickReplies: quickReplies() };
      },
      sendFields: function (entry) {
        const fields = { private: entry.private === true };
        if (Array.isArray(entry.quickReplies) && entry.quickReplies.length > 0 && !fields.private) {
          fields.quickReplies = entry.quickReplies.map(function (label) {
            return { label: label, payload: label };
          });
        }
        return fields;
      },
      blockReason: function (entry) {
        return chat.isEnded() && !entry.private ? ENDED_REASON + ", or send a private note." : "";
      },
      typingLabel: function (author) {
        return author.type === "customer" ? "Customer is typing…" : "";
      },
      // A note is never announced to the customer as typing.
      sendTyping: function () {
        return !isPrivate();
      },
      onConversation: function (conversation) {
        if (typeof conversation.ended === "boolean") {
          showEnded(conversation.ended);
        }
        refreshPanel();
      },
      onFrame: function (frame) {
        if (frame.type === "signed_out") {
          signIn();
        }
      },
    });

    function showEnded(ended) {
      chat.setEnded(ended);
      if (endedHint) {
        endedHint.hidden = !ended;
      }
      if (composer) {
        composer.classList.toggle("composer-ended", ended);
      }
    }

    function showPrivate() {
      const on = isPrivate();
      composer.classList.toggle("composer-private", on);
      if (sendButton) {
        sendButton.textContent = on ? "Add note" : "Send";
      }
      if (bodyInput) {
        bodyInput.placeholder = on ? "Write a private note…" : "Write a reply…";
      }
      if (on) {
        chat.stopTyping();
      }
    }

    function attributesForm() {
      return panel ? panel.querySelector('[data-testid="attributes-form"]') : null;
    }

    // formState serializes a form's values. A snapshot taken when the panel
    // is shown tells unsaved edits apart (defaultValue would not: the
    // browser drops an invalid value the server re-showed in a number
    // input).
    function formState(form) {
      return form ? new URLSearchParams(new FormData(form)).toString() : "";
    }

    let savedAttributes = formState(attributesForm());

    // attributesDirty reports unsaved edits in the panel's attribute form.
    function attributesDirty() {
      return formState(attributesForm()) !== savedAttributes;
    }

    const loadPanel = function () {
      const url = panel ? panel.dataset.panelUrl : "";
      if (!url) {
        return null;
      }
      return fetchHTML(url).then(function (html) {
        if (html === null) {
          return;
        }
        if (attributesDirty()) {
          panelStale = true;
          return;
        }
        panelStale = false;
        // The server renders ConversationPanelView with every value escaped.
        panel.innerHTML = html;
        savedAttributes = formState(attributesForm());
      });
    };
    const refreshPanel = refresher(loadPanel);

    if (panel) {
      panel.addEventListener("focusout", function () {
        if (panelStale && !attributesDirty()) {
          refreshPanel();
        }
      });
    }
    if (privateToggle) {
      privateToggle.addEventListener("change", showPrivate);
      showPrivate();
    }
    showEnded(chat.isEnded());
  }

  // startCopyButtons shows the buttons that copy a read-only field (a
  // webhook's secret, data-copy names the field) and says when they did;
  // without JavaScript the field is selected and copied by hand.
  function startCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      const field = document.getElementById(button.dataset.copy);
      if (!field) {
        return;
      }
      const status = document.querySelector('[data-copy-status="' + button.dataset.copy + '"]');
      const say = function (text) {
        if (status) {
          status.textContent = text;
        }
      };
      button.hidden = false;
      button.addEventListener("click", function () {
        field.focus();
        field.select();
        const copied = function () { say("Copied."); };
        const byHand = function () { say("Press Ctrl+C (⌘C) to copy the selected secret."); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(field.value).then(copied, function () {
            (document.execCommand && document.execCommand("copy") ? copied : byHand)();
          });
        } else {
          (document.execCommand && document.execCommand("copy") ? copied : byHand)();
        }
      });
    });
  }
  startCopyButtons();

  if (!window.handoffChat) {
    return;
  }
  const chatRoot = document.getElementById("agent-chat");
  if (chatRoot) {
    startConversation(chatRoot);
  }
  const inbox = document.getElementById("inbox");
  if (inbox) {
    startInbox(inbox);
  }
})();
