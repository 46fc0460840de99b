// The thank-you page's browser conversion: what the shop writes on its
// thank-you page after the Amazon Ad Tag (here the stand-in
// amazon-tag-stub.js). The page works without it: without JavaScript the
// browser tag does not fire and the server-side event still counts.
//
// THE RULE: the tag's clientDedupeId is the event ID that amazon_capi handed
// to this page, never an ID the page makes up. Here the checkout event's
// `event_id_cookie amzn_eid` (Caddyfile.example) hands it over as the
// amzn_eid cookie, set on this very answer. Amazon then receives the same ID
// from the tag and from the server and counts the order once.
(function () {
  "use strict";
  var m = document.cookie.match(/(?:^|;\s*)amzn_eid=([^;]*)/);
  if (!m) {
    // No ID handed out: the server-side event (if any) has an ID this page
    // cannot know, so a browser conversion would be counted a second time.
    return;
  }
  var id = m[1].replace(/^"(.*)"$/, "$1"); // Go quotes a value with a space or comma
  // Used once: a later page must not report this order again.
  document.cookie = "amzn_eid=; Path=/; Max-Age=0; SameSite=Lax";
  // A live shop adds the tag's other fields (value, currency, …) here.
  amzn("trackEvent", "Off-AmazonPurchases", { clientDedupeId: id });
})();
