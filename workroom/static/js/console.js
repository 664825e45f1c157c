/* The queue console: reloads itself while nobody is using it, so new check-ins appear.
   A checkbox turns this off (remembered on this device). Without JavaScript the page's
   Refresh button does the same. */
(function () {
  "use strict";

  var holder = document.getElementById("console-refresh");
  if (!holder) {
    return;
  }
  var seconds = parseInt(holder.getAttribute("data-seconds"), 10) || 30;
  var storageKey = "workroom.console.autorefresh";
  var lastUse = Date.now();

  function enabled() {
    try {
      return window.localStorage.getItem(storageKey) !== "off";
    } catch (error) {
      return true;
    }
  }

  var label = document.createElement("label");
  var box = document.createElement("input");
  box.type = "checkbox";
  box.id = "console-refresh-box";
  box.checked = enabled();
  label.htmlFor = box.id;
  label.textContent = holder.getAttribute("data-label");
  holder.appendChild(box);
  holder.appendChild(label);
  holder.hidden = false;

  box.addEventListener("change", function () {
    try {
      window.localStorage.setItem(storageKey, box.checked ? "on" : "off");
    } catch (error) {
      /* Private mode: the choice lasts for this page only. */
    }
  });

  function used() {
    lastUse = Date.now();
  }
  document.addEventListener("keydown", used);
  document.addEventListener("pointerdown", used);
  document.addEventListener("focusin", used);

  window.setInterval(function () {
    var active = document.activeElement;
    var typing = active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName) && active !== box;
    if (box.checked && !typing && Date.now() - lastUse >= seconds * 1000) {
      window.location.replace(holder.getAttribute("data-url"));
    }
  }, 5000);
})();
