/* Publish MDM: small enhancements of server-rendered pages. Everything works without it;
   it adds the theme switch, the mobile menu, confirmation dialogs, copy buttons and
   show/hide of dependent form fields. No inline scripts (Content-Security-Policy). */
(function () {
  "use strict";

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  }

  /* --- theme ------------------------------------------------------------------------ */
  function effectiveTheme() {
    var set = document.documentElement.getAttribute("data-theme");
    if (set) return set;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches
      ? "dark"
      : "light";
  }
  function setTheme(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    var domain = meta("cookie-domain");
    document.cookie =
      "theme=" + theme + "; path=/; max-age=31536000; SameSite=Lax" +
      (domain ? "; domain=" + domain : "");
  }
  /* The button's words name the theme it switches to (CSS shows the right one), so it is an
     action button, not a toggle with a pressed state. */
  document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
    button.addEventListener("click", function () {
      setTheme(effectiveTheme() === "dark" ? "light" : "dark");
    });
  });

  /* --- mobile navigation ------------------------------------------------------------- */
  var toggle = document.querySelector("[data-nav-toggle]");
  var sidebar = document.getElementById("sidebar");
  var scrim = null;
  function closeNav() {
    if (!sidebar) return;
    sidebar.classList.remove("open");
    toggle.setAttribute("aria-expanded", "false");
    if (scrim) { scrim.remove(); scrim = null; }
  }
  if (toggle && sidebar) {
    toggle.addEventListener("click", function () {
      var open = !sidebar.classList.contains("open");
      if (!open) return closeNav();
      sidebar.classList.add("open");
      toggle.setAttribute("aria-expanded", "true");
      scrim = document.createElement("div");
      scrim.className = "scrim";
      scrim.addEventListener("click", closeNav);
      document.body.appendChild(scrim);
      var first = sidebar.querySelector("a, button, select");
      if (first) first.focus();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && sidebar.classList.contains("open")) {
        closeNav();
        toggle.focus();
      }
    });
  }

  /* Close open <details> menus when clicking elsewhere or pressing Escape. */
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  /* --- confirmation of destructive actions ------------------------------------------- */
  var dialog = document.getElementById("confirm-dialog");
  var pending = null;
  if (dialog && typeof dialog.showModal === "function") {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-confirm]")) return;
      if (form.querySelector('input[name="confirm"]')) return;
      event.preventDefault();
      pending = form;
      dialog.querySelector("[data-confirm-title]").textContent = form.getAttribute("data-confirm");
      dialog.querySelector("[data-confirm-message]").textContent =
        form.getAttribute("data-confirm-message") || "";
      dialog.querySelector("[data-confirm-ok]").textContent =
        form.getAttribute("data-confirm-label") || "Confirm";
      dialog.showModal();
      dialog.querySelector("[data-confirm-cancel]").focus();
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "ok" && pending) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "confirm";
        input.value = "yes";
        pending.appendChild(input);
        pending.submit();
      }
      pending = null;
    });
  }

  /* --- copy to clipboard -------------------------------------------------------------- */
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined && source.tagName === "INPUT" ? source.value : source.textContent;
    var label = button.querySelector("[data-copy-label]") || button;
    var original = label.textContent;
    function done(message) {
      label.textContent = message;
      var status = document.getElementById("live-status");
      if (status) status.textContent = message;
      setTimeout(function () { label.textContent = original; }, 1800);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); }, function () {
        done("Press Ctrl+C to copy");
      });
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      done("Press Ctrl+C to copy");
    }
  });

  /* --- forms: auto-submit, dependent fields, select all -------------------------------- */
  /* A choice made with the mouse or a finger submits at once; with the keyboard, arrow keys
     only move through the options and the visible button submits (no surprise navigation). */
  document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
    var form = select.form;
    var byPointer = false;
    select.addEventListener("pointerdown", function () { byPointer = true; });
    select.addEventListener("keydown", function () { byPointer = false; });
    select.addEventListener("change", function () {
      if (form && byPointer) form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  });

  /* <div data-show-when="name=value"> is shown only while that radio is chosen. */
  function updateDependents() {
    document.querySelectorAll("[data-show-when]").forEach(function (block) {
      var parts = block.getAttribute("data-show-when").split("=");
      var checked = document.querySelector('input[name="' + parts[0] + '"]:checked');
      var visible = checked ? checked.value === parts[1] : false;
      block.hidden = !visible;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches('input[type="radio"]')) updateDependents();
  });
  updateDependents();

  document.querySelectorAll("[data-select-all]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var boxes = document.querySelectorAll(button.getAttribute("data-select-all"));
      var allChecked = Array.prototype.every.call(boxes, function (b) { return b.checked; });
      boxes.forEach(function (b) { b.checked = !allChecked; });
      button.textContent = allChecked ? "Select all" : "Select none";
    });
  });

  /* An identifier suggested from a name while the person has not typed their own: the form
     id from a template's title, an organization's address from its name. It follows the name
     until the person edits it, also after the page comes back with an error (a value that
     still equals the suggestion counts as not edited). */
  function slugify(text, separator, maxLength) {
    var slug = text
      .toLowerCase()
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, separator)
      .replace(new RegExp("^" + separator + "+|" + separator + "+$", "g"), "");
    if (separator === "_") slug = slug.replace(/^(\d)/, "_$1");
    slug = slug.slice(0, maxLength);
    return slug.replace(new RegExp(separator + "+$"), "");
  }
  function suggestFrom(source, target, separator, onChange) {
    var maxLength = parseInt(target.getAttribute("maxlength"), 10) || 60;
    var suggest = function () { return slugify(source.value, separator, maxLength); };
    var edited = target.value !== "" && target.value !== suggest();
    target.addEventListener("input", function () {
      edited = target.value !== "" && target.value !== suggest();
      if (onChange) onChange();
    });
    source.addEventListener("input", function () {
      if (!edited) target.value = suggest();
      if (onChange) onChange();
    });
    if (!edited && source.value) target.value = suggest();
    if (onChange) onChange();
  }
  var title = document.getElementById("id_title_base");
  var formId = document.getElementById("id_form_id_base");
  if (title && formId) suggestFrom(title, formId, "_");

  /* <input data-slug-from="id_x"> follows that field; [data-address-preview] shows the address. */
  document.querySelectorAll("[data-slug-from]").forEach(function (slugInput) {
    var source = document.getElementById(slugInput.getAttribute("data-slug-from"));
    var preview = document.querySelector("[data-address-preview]");
    if (!source) return;
    suggestFrom(source, slugInput, "-", function () {
      if (!preview) return;
      var template = preview.getAttribute("data-template");
      preview.textContent = template.replace("{slug}", slugInput.value || "your-address");
    });
  });
})();
