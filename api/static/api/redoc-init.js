/* Starts Redoc on the API documentation page (api.common.docs); no inline script (CSP).
   Redoc adds its styles as <style> elements: it puts this script's nonce on them, the
   only inline styles the page's policy admits. */
(function () {
  "use strict";
  var nonce = document.currentScript ? document.currentScript.nonce : "";
  var container = document.getElementById("redoc-container");
  if (container && window.Redoc) {
    window.Redoc.init(container.getAttribute("data-spec-url"), { nonce: nonce, disableSearch: true }, container);
  }
})();
