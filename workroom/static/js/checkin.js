/* Check-in at the kiosk and on the citizen's phone: one question per screen, an offline
   queue with idempotency keys, and (kiosk only) the idle reset. Works over plain HTTP:
   no service worker, no crypto.randomUUID. */
(function () {
  "use strict";

  var form = document.getElementById("checkin");
  if (!form) {
    return;
  }
  var data = form.dataset;
  var channel = data.channel;
  var isKiosk = channel === "kiosk";
  var QUEUE_KEY = "workroom.checkin.queue";
  var COUNTER_KEY = "workroom.checkin.counter";
  var DEVICE_KEY = "workroom.checkin.device";
  var FLOW = ["purpose", "name", "phone", "description", "privacy"];
  var FIELD_STEP = {
    category: "purpose",
    name: "name",
    phone: "phone",
    description: "description",
    consent: "privacy"
  };
  var ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  var REQUEST_TIMEOUT_MS = 15000;
  var SYNC_INTERVAL_MS = 30000;
  // A kiosk page older than this is reloaded (when the server answers) at the next reset,
  // or while it waits untouched, so opening hours and the language stay current.
  var RELOAD_AFTER_MS = 15 * 60 * 1000;

  var state = { category: null };
  var current = "purpose";
  var sending = false;
  var syncing = false;
  var revoked = false;
  var loadedAt = Date.now();
  var memory = {};

  // Storage: the pending queue, the provisional-ticket counter and the phone's device id.
  // Nothing else of a visitor is ever stored.

  function load(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return memory[key] || null;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      memory[key] = value;
    }
  }

  function randomBytes(count) {
    var bytes = new Uint8Array(count);
    window.crypto.getRandomValues(bytes);
    return bytes;
  }

  function newKey() {
    return Array.prototype.map
      .call(randomBytes(16), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function pad(number, width) {
    var text = String(number);
    while (text.length < width) {
      text = "0" + text;
    }
    return text;
  }

  function devicePrefix() {
    if (data.prefix) {
      return data.prefix;
    }
    var id = load(DEVICE_KEY);
    if (typeof id !== "string" || !/^P[A-Z2-9]{2}$/.test(id)) {
      var bytes = randomBytes(2);
      id = "P" + ALPHABET[bytes[0] % ALPHABET.length] + ALPHABET[bytes[1] % ALPHABET.length];
      save(DEVICE_KEY, id);
    }
    return id;
  }

  function nextProvisionalTicket() {
    var now = new Date();
    var day = now.getFullYear() + "-" + pad(now.getMonth() + 1, 2) + "-" + pad(now.getDate(), 2);
    var counter = load(COUNTER_KEY);
    if (!counter || counter.day !== day || typeof counter.n !== "number") {
      counter = { day: day, n: 0 };
    }
    counter.n += 1;
    save(COUNTER_KEY, counter);
    return devicePrefix() + "-" + pad(counter.n, 3);
  }

  // Steps

  function $(selector) {
    return form.querySelector(selector);
  }

  function all(selector, root) {
    return Array.prototype.slice.call((root || form).querySelectorAll(selector));
  }

  function field(name) {
    return document.getElementById("checkin-" + name);
  }

  function value(name) {
    var input = field(name);
    return input ? input.value.trim() : "";
  }

  function show(step) {
    current = step;
    all("[data-step]").forEach(function (section) {
      section.hidden = section.getAttribute("data-step") !== step;
    });
    var title = $('[data-step="' + step + '"] .step__title');
    window.scrollTo(0, 0);
    if (title) {
      title.focus({ preventScroll: true });
    }
    armIdle();
  }

  function clearErrors() {
    all("[data-error]").forEach(function (element) {
      element.textContent = "";
      element.hidden = true;
    });
    all(".step__input").forEach(function (input) {
      input.removeAttribute("aria-invalid");
    });
  }

  function showError(name, message) {
    var element = $('[data-error="' + name + '"]');
    if (!element) {
      element = $('[data-error="general"]');
    }
    element.textContent = message;
    element.hidden = false;
    var input = field(name);
    if (input) {
      input.setAttribute("aria-invalid", "true");
    }
  }

  function goForward() {
    clearErrors();
    if (current === "phone" && value("phone") && !normalizeMobile(value("phone"))) {
      showError("phone", data.phoneMessage);
      return;
    }
    var index = FLOW.indexOf(current);
    if (index >= 0 && index < FLOW.length - 1) {
      show(FLOW[index + 1]);
    }
  }

  function goBack() {
    clearErrors();
    var index = FLOW.indexOf(current);
    if (index > 0) {
      show(FLOW[index - 1]);
    }
  }

  // Mirrors workroom.privacy.normalize_mobile so a wrong number is caught before it is
  // queued offline; the server's check is the one that counts.
  function normalizeMobile(text) {
    var digits = (text.normalize ? text.normalize("NFKC") : text).replace(/[\s\-–—()（）.]/g, "");
    if (digits.indexOf("+86") === 0) {
      digits = digits.slice(3);
    } else if (digits.indexOf("0086") === 0) {
      digits = digits.slice(4);
    }
    if (digits.length === 13 && digits.indexOf("86") === 0) {
      digits = digits.slice(2);
    }
    return /^1[3-9]\d{9}$/.test(digits) ? digits : null;
  }

  // Talking to the server

  function apiUrl(item) {
    return (item.url || data.apiUrl) + "?lang=" + encodeURIComponent(data.lang || "");
  }

  function post(item) {
    var headers = {
      "Content-Type": "application/json",
      Accept: "application/json",
      "Idempotency-Key": item.key
    };
    if (isKiosk && data.credential) {
      headers["X-Kiosk-Credential"] = data.credential;
    }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller
      ? setTimeout(function () {
          controller.abort();
        }, REQUEST_TIMEOUT_MS)
      : null;
    return fetch(apiUrl(item), {
      method: "POST",
      headers: headers,
      body: JSON.stringify(item.body),
      credentials: "same-origin",
      cache: "no-store",
      signal: controller ? controller.signal : undefined
    }).then(
      function (response) {
        clearTimeout(timer);
        return response.json().then(
          function (json) {
            return { status: response.status, json: json || {} };
          },
          function () {
            return { status: response.status, json: {} };
          }
        );
      },
      function () {
        clearTimeout(timer);
        return { status: 0, json: {} };
      }
    );
  }

  function checkinBody() {
    var body = { category: state.category, consent: true, privacy_notice: data.privacyNotice };
    ["name", "phone", "description"].forEach(function (name) {
      if (value(name)) {
        body[name] = value(name);
      }
    });
    return body;
  }

  function setSending(on) {
    sending = on;
    $("[data-sending]").hidden = !on;
    all("[data-agree], [data-back]").forEach(function (button) {
      button.disabled = on;
    });
  }

  function submit() {
    if (sending) {
      return;
    }
    clearErrors();
    // The workroom's address goes with the item: a phone may sync it from another page.
    var item = {
      key: newKey(),
      url: data.apiUrl,
      body: checkinBody(),
      channel: channel,
      created: Date.now()
    };
    setSending(true);
    post(item).then(function (answer) {
      setSending(false);
      var status = answer.status;
      if (status === 200 || status === 201) {
        showResult(answer.json);
      } else if (status === 401 && isKiosk) {
        goToPairing();
      } else if (status === 400 && answer.json.errors) {
        showServerErrors(answer.json.errors);
      } else if (status === 0 || status === 429 || status >= 500) {
        keepOffline(item);
      } else {
        showError("general", data.errorMessage);
      }
    });
  }

  function showServerErrors(errors) {
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var step = FIELD_STEP[name] || "privacy";
      if (first === null || FLOW.indexOf(step) < FLOW.indexOf(first)) {
        first = step;
      }
    });
    show(first || "privacy");
    Object.keys(errors).forEach(function (name) {
      showError(FIELD_STEP[name] ? name : "general", String(errors[name]));
    });
  }

  function fill(slot, text) {
    all('[data-slot="' + slot + '"]').forEach(function (element) {
      element.textContent = text;
    });
  }

  function showRow(row, visible) {
    all('[data-row="' + row + '"]').forEach(function (element) {
      element.hidden = !visible;
    });
  }

  function describeNextReception(next) {
    if (typeof next === "string") {
      return next;
    }
    if (next && typeof next === "object") {
      return next.text || next.label || next.description || "";
    }
    return "";
  }

  function showResult(json) {
    fill("receipt", json.receipt || "");
    if (json.ticket) {
      fill("ticket", json.ticket);
      var onDuty = json.on_duty;
      if (Array.isArray(onDuty)) {
        onDuty = onDuty
          .map(function (person) {
            return typeof person === "string" ? person : (person && person.name) || "";
          })
          .filter(Boolean)
          .join(data.lang && data.lang.indexOf("zh") === 0 ? "、" : ", ");
      }
      fill("on-duty", onDuty || "");
      showRow("on-duty", Boolean(onDuty));
      var hasPosition = typeof json.position === "number";
      fill("position", hasPosition ? String(json.position) : "");
      showRow("position", hasPosition);
      show("done");
    } else {
      var next = describeNextReception(json.next_reception);
      fill("next-reception", next);
      showRow("next-reception", Boolean(next));
      show("message");
    }
  }

  function keepOffline(item) {
    item.body.provisional_ticket = nextProvisionalTicket();
    var queue = load(QUEUE_KEY) || [];
    queue.push(item);
    save(QUEUE_KEY, queue);
    fill("provisional", item.body.provisional_ticket);
    show("offline");
  }

  function removeFromQueue(key) {
    var queue = (load(QUEUE_KEY) || []).filter(function (item) {
      return item.key !== key;
    });
    save(QUEUE_KEY, queue);
  }

  // Acknowledged (2xx), or refused for good (400, 404, 409): a check-in nobody can fix
  // any more leaves the queue. Network errors, 401, 429 and 5xx keep it for later.
  function settled(status) {
    return (status >= 200 && status < 300) || status === 400 || status === 404 || status === 409;
  }

  function sync() {
    if (syncing || revoked) {
      return;
    }
    syncing = true;
    (function sendNext() {
      var pending = (load(QUEUE_KEY) || []).filter(function (item) {
        return item && item.channel === channel && item.key && item.body;
      });
      if (!pending.length) {
        syncing = false;
        return;
      }
      var item = pending[0];
      post(item).then(function (answer) {
        if (settled(answer.status)) {
          removeFromQueue(item.key);
          sendNext();
          return;
        }
        syncing = false;
        if (answer.status === 401 && isKiosk) {
          revoked = true;
          if (current === "purpose" && !isDirty()) {
            goToPairing();
          }
        }
      });
    })();
  }

  function goToPairing() {
    window.location.replace(data.pairUrl);
  }

  // Reset: nothing of the visitor stays in the page, the form or the history.

  function isDirty() {
    return (
      current !== "purpose" ||
      state.category !== null ||
      all(".step__input").some(function (input) {
        return input.value !== "";
      }) ||
      (isKiosk && data.lang !== data.defaultLang)
    );
  }

  function reset() {
    hideWarning();
    clearTimeout(idleTimer);
    state = { category: null };
    form.reset();
    all(".step__input").forEach(function (input) {
      input.value = "";
    });
    all("[data-category]").forEach(function (button) {
      button.setAttribute("aria-pressed", "false");
    });
    all("[data-slot]").forEach(function (element) {
      element.textContent = "";
    });
    clearErrors();
    setSending(false);
    show("purpose");
    window.history.replaceState(null, "", data.startUrl);
    if (revoked) {
      goToPairing();
      return;
    }
    if (isKiosk && (data.lang !== data.defaultLang || Date.now() - loadedAt > RELOAD_AFTER_MS)) {
      reloadWhenReachable();
    }
  }

  // Back to the default language and a fresh page, but only if the server answers:
  // an unreachable server would leave the kiosk on the browser's error page.
  function reloadWhenReachable() {
    fetch(data.startUrl, { cache: "no-store", credentials: "same-origin" }).then(
      function (response) {
        if (response.ok) {
          window.location.replace(data.startUrl);
        }
      },
      function () {}
    );
  }

  // Idle warning (kiosk only): an in-page banner, never a pop-up.

  var banner = document.getElementById("idle-warning");
  var idleTimer = null;
  var countdownTimer = null;
  var warningEnds = 0;

  function armIdle() {
    clearTimeout(idleTimer);
    if (!isKiosk || !banner) {
      return;
    }
    hideWarning();
    if (isDirty()) {
      idleTimer = setTimeout(showWarning, Number(data.idleSeconds) * 1000);
    }
  }

  function showWarning() {
    if (sending) {
      armIdle();
      return;
    }
    warningEnds = Date.now() + Number(data.warningSeconds) * 1000;
    banner.hidden = false;
    tick();
    countdownTimer = setInterval(tick, 250);
  }

  function tick() {
    var left = Math.max(0, Math.ceil((warningEnds - Date.now()) / 1000));
    banner.querySelector("[data-countdown]").textContent = String(left);
    if (left <= 0) {
      reset();
    }
  }

  function hideWarning() {
    clearInterval(countdownTimer);
    countdownTimer = null;
    if (banner) {
      banner.hidden = true;
    }
  }

  // Wiring

  form.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target || target.disabled) {
      return;
    }
    if (target.hasAttribute("data-category")) {
      state.category = target.getAttribute("data-category");
      all("[data-category]").forEach(function (button) {
        button.setAttribute("aria-pressed", button === target ? "true" : "false");
      });
      clearErrors();
      show("name");
    } else if (target.hasAttribute("data-next")) {
      goForward();
    } else if (target.hasAttribute("data-skip")) {
      var input = $('[data-step="' + current + '"] .step__input');
      if (input) {
        input.value = "";
      }
      clearErrors();
      var index = FLOW.indexOf(current);
      show(FLOW[index + 1]);
    } else if (target.hasAttribute("data-back")) {
      goBack();
    } else if (target.hasAttribute("data-agree")) {
      submit();
    } else if (target.hasAttribute("data-finish")) {
      reset();
    }
  });

  // Enter in a one-line answer means "next"; the form itself is never submitted.
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.tagName === "INPUT") {
      event.preventDefault();
      goForward();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });

  if (banner) {
    banner.querySelector("[data-continue]").addEventListener("click", armIdle);
  }

  ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach(function (type) {
    document.addEventListener(
      type,
      armIdle,
      { capture: true, passive: true }
    );
  });

  // Language links replace the page, so the history never holds a previous screen.
  Array.prototype.forEach.call(document.querySelectorAll("[data-replace-link]"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      window.location.replace(link.href);
    });
  });

  window.addEventListener("online", sync);
  setInterval(function () {
    sync();
    if (isKiosk && !isDirty() && Date.now() - loadedAt > RELOAD_AFTER_MS) {
      reloadWhenReachable();
    }
  }, SYNC_INTERVAL_MS);
  sync();
  armIdle();
})();
