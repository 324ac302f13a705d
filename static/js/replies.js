// replies.js inserts saved replies into the console's composer. Typing "/"
// at the start of the reply box, or after a space, opens the agent's saved
// replies; the words typed after it narrow the list (each must be in the
// title or the text), ↑ and ↓ choose, Enter or Tab inserts the chosen
// reply in place of "/words", Escape closes the list. The replies come from
// the composer's data-replies-url, their placeholders already filled in for
// the conversation, and are asked for again each time the list opens.
// Without JavaScript the page at /agent/replies lists them to copy.
(function () {
  "use strict";

  const form = document.getElementById("composer");
  const input = form ? form.querySelector('textarea[name="body"]') : null;
  if (!form || !input || !form.dataset.repliesUrl) {
    return;
  }
  const url = form.dataset.repliesUrl;
  const MAX_SHOWN = 8;
  const MAX_QUERY = 60;

  let replies = null; // the last list loaded
  let loading = false;
  let failed = false;
  let isOpen = false;
  let trigger = null; // {start, end, query}: the "/words" being typed
  let dismissedAt = -1; // the trigger closed with Escape stays closed
  let shown = [];
  let active = 0;

  const picker = document.createElement("div");
  picker.className = "reply-picker";
  picker.hidden = true;
  picker.setAttribute("data-testid", "reply-picker");
  const list = document.createElement("ul");
  list.id = "reply-picker-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Saved replies");
  const status = document.createElement("p");
  status.className = "reply-picker-status";
  status.setAttribute("data-testid", "reply-picker-status");
  const manage = document.createElement("a");
  manage.href = "/agent/replies";
  manage.className = "reply-picker-manage";
  manage.textContent = "Manage saved replies";
  picker.append(list, status, manage);
  input.parentNode.insertBefore(picker, input);
  input.setAttribute("aria-haspopup", "listbox");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);

  function findTrigger() {
    const pos = input.selectionStart;
    if (pos !== input.selectionEnd) {
      return null;
    }
    const before = input.value.slice(0, pos);
    const m = /(^|\s)\/([^\n/]*)$/.exec(before);
    if (!m || m[2].length > MAX_QUERY) {
      return null;
    }
    return { start: pos - m[2].length - 1, end: pos, query: m[2] };
  }

  function matching(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const hits = [];
    (replies || []).forEach(function (r) {
      const title = r.title.toLowerCase();
      const hay = title + "\n" + r.text.toLowerCase();
      if (words.every(function (w) { return hay.indexOf(w) !== -1; })) {
        // Titles that begin with the first word come first.
        hits.push({ reply: r, rank: words.length > 0 && title.indexOf(words[0]) === 0 ? 0 : 1 });
      }
    });
    hits.sort(function (a, b) { return a.rank - b.rank; });
    return hits.map(function (h) { return h.reply; });
  }

  function load() {
    if (loading) {
      return;
    }
    loading = true;
    window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("saved replies: " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        replies = Array.isArray(data) ? data : [];
        failed = false;
      })
      .catch(function () {
        failed = true;
      })
      .finally(function () {
        loading = false;
        if (isOpen) {
          render();
        }
      });
  }

  function open() {
    if (!isOpen) {
      isOpen = true;
      active = 0;
      load();
    }
    picker.hidden = false;
    input.setAttribute("aria-expanded", "true");
    render();
  }

  function close() {
    isOpen = false;
    picker.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function render() {
    shown = matching(trigger ? trigger.query : "").slice(0, MAX_SHOWN);
    if (active >= shown.length) {
      active = Math.max(0, shown.length - 1);
    }
    list.replaceChildren();
    shown.forEach(function (r, i) {
      const li = document.createElement("li");
      li.id = "reply-option-" + i;
      li.className = "reply-option";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.setAttribute("data-testid", "reply-option");
      const title = document.createElement("span");
      title.className = "reply-option-title";
      title.textContent = r.title;
      const scope = document.createElement("span");
      scope.className = "reply-option-scope";
      scope.textContent = r.shared ? "Team" : "Yours";
      const text = document.createElement("span");
      text.className = "reply-option-text";
      text.textContent = r.text;
      li.append(title, scope, text);
      // mousedown, not click: the reply box keeps the focus.
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();
        insert(r);
      });
      list.appendChild(li);
    });
    if (shown.length > 0) {
      input.setAttribute("aria-activedescendant", "reply-option-" + active);
      status.textContent = "";
      status.hidden = true;
      return;
    }
    input.removeAttribute("aria-activedescendant");
    status.hidden = false;
    if (replies === null) {
      status.textContent = failed ? "Saved replies could not be loaded. Type again to retry." : "Loading saved replies…";
    } else if (replies.length === 0) {
      status.textContent = "You have no saved replies yet.";
    } else {
      status.textContent = "No saved reply matches “" + trigger.query + "”.";
    }
  }

  function insert(r) {
    if (!trigger) {
      return;
    }
    const value = input.value;
    input.value = value.slice(0, trigger.start) + r.text + value.slice(trigger.end);
    const caret = trigger.start + r.text.length;
    input.setSelectionRange(caret, caret);
    close();
    trigger = null;
    input.focus();
    // The composer saves its draft, grows and counts on input.
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function update() {
    trigger = findTrigger();
    if (!trigger || trigger.start === dismissedAt) {
      close();
      return;
    }
    dismissedAt = -1;
    if (failed && !loading) {
      load();
    }
    // A "/" followed by words nothing matches, with a space in them, is
    // writing, not looking for a reply.
    if (isOpen && replies !== null && /\s/.test(trigger.query) && matching(trigger.query).length === 0) {
      close();
      return;
    }
    open();
  }

  input.addEventListener("input", update);
  input.addEventListener("click", update);
  input.addEventListener("keyup", function (event) {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") {
      update();
    }
  });
  input.addEventListener("blur", close);

  // Capture on the form: the keys the list uses never reach the reply
  // box's own handlers (Enter would send).
  form.addEventListener("keydown", function (event) {
    if (!isOpen || event.target !== input || event.isComposing) {
      return;
    }
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (shown.length > 0) {
          active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
          render();
        }
        break;
      case "Enter":
      case "Tab":
        if (event.shiftKey || shown.length === 0) {
          if (event.key === "Enter" && shown.length === 0 && !event.shiftKey) {
            close(); // Enter sends, as it would without the list
          }
          return;
        }
        insert(shown[active]);
        break;
      case "Escape":
        dismissedAt = trigger ? trigger.start : -1;
        close();
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
})();
