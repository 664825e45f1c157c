/* The display board: polls the board's state every few seconds and redraws it; after
   someone taps "Enable sound" it chimes on each new call (browsers allow sound only
   after a tap). Written for old TV browsers: no modules, no fetch, no arrow functions. */
(function () {
  "use strict";

  var root = document.getElementById("board");
  if (!root) {
    return;
  }
  var url = root.getAttribute("data-state-url");
  var pollMs = Math.max(1, parseInt(root.getAttribute("data-poll-seconds"), 10) || 3) * 1000;
  var lastCall = root.getAttribute("data-last-call") || "";
  var soundButton = document.getElementById("board-sound");
  var audio = null;
  var soundOn = false;

  function byId(id) {
    return document.getElementById(id);
  }

  function setText(id, text) {
    var node = byId(id);
    if (node && node.textContent !== text) {
      node.textContent = text;
    }
  }

  function fillList(id, items, build) {
    var list = byId(id);
    if (!list) {
      return;
    }
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    for (var i = 0; i < items.length; i += 1) {
      list.appendChild(build(items[i]));
    }
  }

  function item(text, className) {
    var node = document.createElement(className ? "span" : "li");
    node.textContent = text;
    if (className) {
      node.className = className;
    }
    return node;
  }

  function render(state) {
    var current = state.calling && state.calling.length ? state.calling[0] : null;
    setText("board-date", state.date || "");
    setText("board-ticket", current ? current.ticket : "\u2014");
    setText("board-to", current ? current.to : root.getAttribute("data-idle") || "");
    fillList("board-also", (state.calling || []).slice(1), function (call) {
      var li = document.createElement("li");
      li.appendChild(item(call.ticket, "board__also-ticket"));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(item(call.to, "board__also-to"));
      return li;
    });
    fillList("board-next", state.next || [], function (ticket) {
      return item(ticket);
    });
    setText("board-waiting", state.waiting_text || "");
    var deputies = byId("board-deputies");
    var names = state.deputies && state.deputies.length ? state.deputies : [];
    if (!names.length && deputies) {
      names = [state.nobody || deputies.getAttribute("data-none") || ""];
    }
    fillList("board-deputies", names, function (name) {
      return item(name);
    });
    var updated = root.getAttribute("data-updated") || "{time}";
    setText("board-status", updated.replace("{time}", state.updated || ""));
    root.classList.remove("board--offline");

    if (state.last_call && state.last_call !== lastCall) {
      lastCall = state.last_call;
      flash();
      chime();
    }
  }

  function flash() {
    var current = byId("board-current");
    if (!current) {
      return;
    }
    current.classList.remove("board__current--new");
    // Reading layout restarts the highlight animation.
    void current.offsetWidth;
    current.classList.add("board__current--new");
  }

  function offline() {
    root.classList.add("board--offline");
    setText("board-status", root.getAttribute("data-offline") || "");
  }

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", url, true);
    request.setRequestHeader("Accept", "application/json");
    request.timeout = pollMs * 2;
    request.onload = function () {
      if (request.status === 200) {
        try {
          render(JSON.parse(request.responseText));
        } catch (error) {
          offline();
        }
      } else {
        offline();
      }
      schedule();
    };
    request.onerror = function () {
      offline();
      schedule();
    };
    request.ontimeout = request.onerror;
    request.send();
  }

  function schedule() {
    window.setTimeout(poll, pollMs);
  }

  // Sound: a short two-note tone made with the Web Audio API, no audio file.

  function tone(frequency, start, length) {
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.4, start + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    oscillator.connect(gain);
    gain.connect(audio.destination);
    oscillator.start(start);
    oscillator.stop(start + length + 0.05);
  }

  function chime() {
    if (!soundOn || !audio) {
      return;
    }
    var now = audio.currentTime + 0.05;
    tone(659.25, now, 0.45);
    tone(523.25, now + 0.4, 0.6);
  }

  function toggleSound() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      return;
    }
    soundOn = !soundOn;
    if (soundOn) {
      audio = audio || new Context();
      if (audio.resume) {
        audio.resume();
      }
      chime();
    }
    soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundButton.textContent = root.getAttribute(soundOn ? "data-sound-on" : "data-sound-off");
  }

  if (soundButton) {
    if (!(window.AudioContext || window.webkitAudioContext)) {
      soundButton.hidden = true;
    } else {
      soundButton.addEventListener("click", toggleSound);
    }
  }
  schedule();
})();
