// presence.js keeps the agent's status (the header's Online / Away /
// Offline) in step with the agent. A choice in the menu is sent at once.
// After data-away-after-ms without the agent's keyboard, mouse, touch or
// scrolling in any console tab, the agent is set away (auto, which never
// overrides a status they chose); the first activity after that sets them
// online again. Tabs share the time of the last activity through
// localStorage, so one busy tab keeps the agent online. Without JavaScript
// the Set button sends the form.
(function () {
  "use strict";

  const form = document.querySelector('[data-testid="status-form"]');
  if (!form) {
    return;
  }
  const select = form.querySelector('select[name="status"]');
  const dot = form.querySelector(".status-dot");
  const setButton = form.querySelector('[data-testid="agent-status-set"]');
  const awayAfter = Number(form.dataset.awayAfterMs) || 600000;
  const KEY = "handoff.agent.activity";
  const CHECK_MS = Math.min(15000, Math.max(250, awayAfter / 4));
  let status = form.dataset.status || "offline";
  let reason = form.dataset.statusReason || "";
  let lastActivity = Date.now();
  let sending = false;

  if (setButton) {
    setButton.hidden = true; // the menu sends on change
  }

  function show(s, r) {
    status = s;
    reason = r || "";
    form.dataset.status = status;
    form.dataset.statusReason = reason;
    if (select.value !== status) {
      select.value = status;
    }
    if (dot) {
      dot.className = "status-dot status-" + status;
    }
  }

  function send(s, auto) {
    if (sending) {
      return Promise.resolve();
    }
    sending = true;
    const body = new URLSearchParams({ status: s, auto: auto ? "true" : "false" });
    return window.fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
    }).then(function (response) {
      if (response.status === 401 || new URL(response.url || form.action, window.location.href).pathname === "/agent/sign-in") {
        window.location.assign("/agent/sign-in");
        return null;
      }
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && data.status) {
        show(data.status, data.reason);
      } else {
        show(status, reason); // refused: the menu shows what holds
      }
    }).catch(function () {
      show(status, reason);
    }).finally(function () {
      sending = false;
    });
  }

  // The agent's status changed elsewhere (another tab, or handoff): the
  // console socket says so (alerts.js passes it on).
  document.addEventListener("handoff:status", function (event) {
    if (event.detail && event.detail.status) {
      show(event.detail.status, event.detail.reason);
    }
  });

  select.addEventListener("change", function () {
    send(select.value, false);
  });

  function sharedActivity() {
    try {
      return Number(window.localStorage.getItem(KEY)) || 0;
    } catch (e) {
      return 0;
    }
  }

  let stored = 0;
  function active() {
    const now = Date.now();
    lastActivity = now;
    if (now - stored > 1000) {
      stored = now;
      try {
        window.localStorage.setItem(KEY, String(now));
      } catch (e) {
        // Storage refused: this tab's activity still counts.
      }
    }
    if (status === "away" && reason === "idle") {
      send("online", true);
    }
  }
  ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (type) {
    window.addEventListener(type, active, { passive: true, capture: true });
  });
  // The browser also sends pointer moves when the page changes under a
  // still pointer (a live list refreshing): only a move to another place
  // is the agent's.
  let at = null;
  window.addEventListener("pointermove", function (event) {
    const here = event.screenX + "," + event.screenY;
    if (at !== null && at !== here) {
      active();
    }
    at = here;
  }, { passive: true, capture: true });

  window.setInterval(function () {
    const last = Math.max(lastActivity, sharedActivity());
    if (status === "online" && Date.now() - last >= awayAfter) {
      send("away", true);
    }
  }, CHECK_MS);
})();
