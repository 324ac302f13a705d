// alerts.js makes sure an agent never misses a conversation, on every
// console page. The console socket (/agent/ws; agent.js's on the inbox,
// this script's own elsewhere) sends:
//   - "counts": the conversations waiting in the agent's queues and theirs
//     with unread messages, shown in the page title ("(3) Inbox"), as a
//     badge on the favicon, and beside the inbox's Unassigned and Mine tabs;
//   - "notice": something for this agent (a new conversation in their
//     queues, a customer's message in theirs, one assigned to them), shown
//     as a desktop notification and a short sound, each if the agent turned
//     it on in the Alerts menu (kept in this browser), and not while they
//     look at that very conversation.
(function () {
  "use strict";

  const menu = document.querySelector('[data-testid="alerts-menu"]');
  if (!menu) {
    return;
  }
  const desktopBox = menu.querySelector('[data-testid="alerts-desktop"]');
  const soundBox = menu.querySelector('[data-testid="alerts-sound"]');
  const hint = menu.querySelector('[data-testid="alerts-hint"]');
  const KEYS = { desktop: "handoff.alerts.desktop", sound: "handoff.alerts.sound" };
  const baseTitle = document.title;
  const icon = document.querySelector('link[rel="icon"]');
  const baseIcon = icon ? icon.href : "";
  menu.hidden = false;

  function pref(key) {
    try {
      return window.localStorage.getItem(key) === "on";
    } catch (e) {
      return false;
    }
  }
  function setPref(key, on) {
    try {
      window.localStorage.setItem(key, on ? "on" : "off");
    } catch (e) {
      // Not kept: this page still follows the box.
    }
  }
  function canNotify() {
    return "Notification" in window;
  }
  function say(text) {
    if (hint) {
      hint.textContent = text;
      hint.hidden = text === "";
    }
  }

  desktopBox.checked = pref(KEYS.desktop) && canNotify() && window.Notification.permission === "granted";
  soundBox.checked = pref(KEYS.sound);
  if (!canNotify()) {
    desktopBox.disabled = true;
    say("This browser cannot show notifications.");
  }

  desktopBox.addEventListener("change", function () {
    if (!desktopBox.checked) {
      setPref(KEYS.desktop, false);
      say("");
      return;
    }
    Promise.resolve(window.Notification.requestPermission()).then(function (permission) {
      const granted = permission === "granted";
      desktopBox.checked = granted;
      setPref(KEYS.desktop, granted);
      say(granted ? "" : "Your browser blocks notifications from this site: allow them in its site settings.");
    });
  });
  soundBox.addEventListener("change", function () {
    setPref(KEYS.sound, soundBox.checked);
    if (soundBox.checked) {
      beep(); // a sample, and the user's gesture lets audio play later
    }
  });

  // ---- sound ------------------------------------------------------------

  let audio = null;
  function beep() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) {
      return;
    }
    try {
      audio = audio || new Ctx();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.4);
      document.documentElement.dataset.alertsBeeps = String(Number(document.documentElement.dataset.alertsBeeps || 0) + 1);
    } catch (e) {
      // No audio: the notification and the badges still tell.
    }
  }

  // ---- counts -----------------------------------------------------------

  function favicon(count) {
    if (!icon) {
      return;
    }
    if (count <= 0) {
      icon.href = baseIcon;
      icon.type = "image/svg+xml";
      return;
    }
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 32;
    const ctx = canvas.getContext("2d");
    if (!ctx) {
      return;
    }
    const img = new Image();
    img.onload = function () {
      ctx.drawImage(img, 0, 0, 32, 32);
      ctx.fillStyle = "#d92d20";
      ctx.beginPath();
      ctx.arc(22, 10, 10, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = "#ffffff";
      ctx.font = "bold 14px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(count > 9 ? "9+" : String(count), 22, 11);
      icon.type = "image/png";
      icon.href = canvas.toDataURL("image/png");
    };
    img.src = baseIcon;
  }

  function tabCount(id, n, label) {
    const tab = document.querySelector('[data-testid="queue-' + id + '"]');
    if (!tab) {
      return;
    }
    let badge = tab.querySelector(".tab-count");
    if (n <= 0) {
      if (badge) {
        badge.remove();
      }
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "tab-count";
      badge.setAttribute("data-testid", "queue-" + id + "-count");
      tab.appendChild(badge);
    }
    badge.textContent = String(n);
    badge.title = n + " " + label;
    badge.setAttribute("aria-label", n + " " + label);
  }

  function showCounts(frame) {
    const waiting = Number(frame.waiting) || 0;
    const unread = Number(frame.unread) || 0;
    const total = waiting + unread;
    document.title = (total > 0 ? "(" + total + ") " : "") + baseTitle;
    document.documentElement.dataset.alertsCount = String(total);
    favicon(total);
    tabCount("unassigned", waiting, "waiting");
    tabCount("mine", unread, "unread");
  }

  // ---- notices ----------------------------------------------------------

  function looking(conversationId) {
    return document.visibilityState === "visible" && document.hasFocus() &&
      window.location.pathname === "/agent/conversations/" + conversationId;
  }

  function notify(frame) {
    if (looking(frame.conversationId)) {
      return;
    }
    if (soundBox.checked) {
      beep();
    }
    if (desktopBox.checked && canNotify() && window.Notification.permission === "granted") {
      try {
        const n = new window.Notification(frame.title, { body: frame.body || "", tag: frame.kind + ":" + frame.conversationId });
        n.onclick = function () {
          window.focus();
          window.location.assign(frame.url);
          n.close();
        };
      } catch (e) {
        // Some browsers show notifications only from a service worker.
      }
    }
  }

  function onFrame(frame) {
    if (frame.type === "status") {
      // presence.js shows it in the header.
      document.dispatchEvent(new CustomEvent("handoff:status", { detail: frame }));
    } else if (frame.type === "counts") {
      showCounts(frame);
    } else if (frame.type === "notice") {
      notify(frame);
    }
  }

  if (document.getElementById("inbox")) {
    // agent.js holds the console socket on the inbox.
    document.addEventListener("handoff:console-frame", function (event) {
      onFrame(event.detail);
    });
    return;
  }
  if (!window.handoffChat || !menu.dataset.socketUrl) {
    return;
  }
  // A page already on its way elsewhere (a form sent: "Sign out
  // everywhere" ends this very session) goes there, not to the sign-in.
  let leaving = false;
  window.addEventListener("beforeunload", function () {
    leaving = true;
  });
  window.handoffChat.liveSocket(menu.dataset.socketUrl, {
    onFrame: function (frame) {
      if (frame.type === "signed_out") {
        window.setTimeout(function () {
          if (!leaving) {
            window.location.assign("/agent/sign-in");
          }
        }, 250);
        return;
      }
      onFrame(frame);
    },
  }).connect();
})();
