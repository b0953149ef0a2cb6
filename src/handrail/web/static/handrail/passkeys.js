// After django-otp-webauthn's script has made a passkey (or used one), go where the
// server said: the passkeys page lists the new one with the server's message.
(function () {
  "use strict";
  document.addEventListener("otp_webauthn.register_complete", function (event) {
    var detail = event.detail || {};
    var target = (detail.response && detail.response.redirect_url) || window.location.pathname;
    window.location.assign(target);
  });
})();
