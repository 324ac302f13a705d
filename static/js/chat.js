// chat.js continues a server-rendered conversation live over a websocket.
//
// The thread itself (resume after the last rendered message, sends with a
// client id so the server can deduplicate retries, acks, errors, typing,
// read receipts) is chat-core.js's; this file adds the customer's side: the
// agent's typing, the assistant badge, and what ending or reopening the
// conversation shows. Whenever the socket is not open the plain form POST
// still works. The protocol is in DESIGN.md §5.
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

  const chat = window.handoffChat.startThread(root, {
    ownDirection: "in",
    ownAuthorType: "customer",
    typingLabel: function (author) {
      if (author.type === "customer") {
        return "";
      }
      return (author.displayName || "Support") + " is typing…";
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

  // showEnded switches the page between an ended conversation (banner and
  // rating, no composer) and an open one (after an agent reopened it).
  function showEnded(ended) {
    chat.setEnded(ended);
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
