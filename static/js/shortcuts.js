// shortcuts.js: the console's keyboard shortcuts, listed in the dialog "?"
// opens. They work when no field has the focus (Escape leaves the reply
// box), without Ctrl, Alt or Meta:
//   j / k    next / previous conversation (in the inbox: the highlighted
//            row; in a conversation: the inbox list it was opened from)
//   o, Enter open the highlighted conversation (inbox)
//   r        reply (the reply box, as a reply)
//   n        note (the reply box, as a private note)
//   a        assign to me (join)
//   e        end the conversation (after a confirmation)
//   ?        this list
(function () {
  "use strict";

  const dialog = document.querySelector('[data-testid="shortcuts"]');
  if (!dialog) {
    return;
  }
  const LIST_KEY = "handoff.inbox.list";
  const opener = document.querySelector('[data-testid="shortcuts-open"]');
  if (opener) {
    opener.hidden = false;
    opener.addEventListener("click", function () {
      openHelp();
    });
  }

  function openHelp() {
    if (typeof dialog.showModal === "function" && !dialog.open) {
      dialog.showModal();
    }
  }

  // ---- the inbox's rows -----------------------------------------------

  const list = document.getElementById("inbox-list");
  let active = -1;

  function rows() {
    return list ? Array.from(list.querySelectorAll('[data-testid="inbox-row"]')) : [];
  }

  function remember() {
    const urls = rows().map(function (r) {
      const link = r.querySelector('[data-testid="inbox-link"]');
      return link ? link.getAttribute("href") : "";
    }).filter(Boolean);
    try {
      window.sessionStorage.setItem(LIST_KEY, JSON.stringify(urls));
    } catch (e) {
      // Not kept: j and k work in the inbox only.
    }
  }

  function highlight(i) {
    const all = rows();
    if (all.length === 0) {
      return;
    }
    active = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (r, n) {
      r.classList.toggle("row-active", n === active);
      if (n === active) {
        r.setAttribute("aria-current", "true");
      } else {
        r.removeAttribute("aria-current");
      }
    });
    const link = all[active].querySelector('[data-testid="inbox-link"]');
    if (link) {
      link.focus();
    }
  }

  if (list) {
    remember();
    // The list is replaced on every live refresh: keep the highlight on
    // the same conversation, and the remembered order fresh.
    new MutationObserver(function () {
      const before = active;
      remember();
      if (before >= 0) {
        highlight(Math.min(before, rows().length - 1));
      }
    }).observe(list, { childList: true });
  }

  // ---- a conversation's neighbours -----------------------------------

  function step(delta) {
    if (list) {
      highlight(active < 0 ? (delta > 0 ? 0 : rows().length - 1) : active + delta);
      return;
    }
    let urls = [];
    try {
      urls = JSON.parse(window.sessionStorage.getItem(LIST_KEY) || "[]");
    } catch (e) {
      urls = [];
    }
    const here = urls.indexOf(window.location.pathname);
    const next = urls[here + delta];
    if (here >= 0 && next) {
      window.location.assign(next);
    }
  }

  function click(testID) {
    const el = document.querySelector('[data-testid="' + testID + '"]');
    if (el && !el.disabled) {
      el.click();
      return true;
    }
    return false;
  }

  function compose(asNote) {
    const body = document.querySelector('[data-testid="agent-composer-body"]');
    const note = document.querySelector('[data-testid="composer-private"]');
    if (!body) {
      return;
    }
    if (note && note.checked !== asNote) {
      note.click(); // the composer restyles itself on change
    }
    body.focus();
  }

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    const tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing || event.defaultPrevented) {
      return;
    }
    if (event.key === "Escape" && typing(event.target) && event.target.tagName.toLowerCase() === "textarea") {
      event.target.blur();
      return;
    }
    if (typing(event.target) || dialog.open) {
      return;
    }
    switch (event.key) {
      case "?":
        openHelp();
        break;
      case "j":
        step(1);
        break;
      case "k":
        step(-1);
        break;
      case "o":
      case "Enter":
        if (!list || active < 0) {
          return;
        }
        {
          const link = rows()[active].querySelector('[data-testid="inbox-link"]');
          if (link) {
            window.location.assign(link.getAttribute("href"));
          }
        }
        break;
      case "r":
        compose(false);
        break;
      case "n":
        compose(true);
        break;
      case "a":
        if (!click("action-join")) {
          return;
        }
        break;
      case "e":
        if (!document.querySelector('[data-testid="action-end"]') || !window.confirm("End this conversation?")) {
          return;
        }
        click("action-end");
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();
