/* Google Picker for the template form (loaded only when the Picker is configured).
   Asks the server for a short-lived access token of the connected Google account, loads
   Google's Picker API and writes the chosen sheet's address into the form. */
(function () {
  "use strict";
  var button = document.querySelector("[data-google-picker]");
  if (!button) return;

  function csrf() {
    var el = document.querySelector('meta[name="csrf-token"]');
    return el ? el.getAttribute("content") : "";
  }
  function loadApi() {
    return new Promise(function (resolve, reject) {
      if (window.gapi) return resolve();
      var script = document.createElement("script");
      script.src = "https://apis.google.com/js/api.js";
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    }).then(function () {
      return new Promise(function (resolve) { window.gapi.load("picker", resolve); });
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    Promise.all([
      fetch("/google/picker-token/", { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } })
        .then(function (r) { if (!r.ok) throw new Error("token"); return r.json(); }),
      loadApi(),
    ]).then(function (results) {
      var auth = results[0];
      var google = window.google;
      var view = new google.picker.DocsView(google.picker.ViewId.SPREADSHEETS).setMode(google.picker.DocsViewMode.LIST);
      var picker = new google.picker.PickerBuilder()
        .addView(view)
        .setOAuthToken(auth.access_token)
        .setDeveloperKey(auth.api_key)
        .setAppId(auth.app_id)
        .setCallback(function (data) {
          if (data.action === google.picker.Action.PICKED) {
            var doc = data.docs[0];
            var target = document.querySelector(button.getAttribute("data-target"));
            if (target) target.value = doc.url || ("https://docs.google.com/spreadsheets/d/" + doc.id + "/edit");
          }
        })
        .build();
      picker.setVisible(true);
    }).catch(function () {
      var status = document.getElementById("live-status");
      if (status) status.textContent = "Google Drive could not be opened; paste the sheet's address instead.";
    }).finally(function () { button.disabled = false; });
  });
})();
