// A STAND-IN for the Amazon Ad Tag, so that the offline demo and its browser
// test (browsertest/dedupe_test.go) can show deduplication. It is not
// Amazon's script and sends nothing to Amazon.
//
// On a live shop this file is replaced by the Amazon Ad Tag snippet that
// Amazon Ads gives the advertiser: it loads Amazon's script, whose conversion
// call sends the conversion, with its clientDedupeId, to Amazon. (Take the
// exact call, conversion name and fields from that snippet.) The stand-in
// keeps only what matters for deduplication:
//
//     amzn("trackEvent", "<conversion>", { clientDedupeId: "<event ID>" })
//
// sends the fields as a query string to the shop's own /amazon-tag-stub (a
// `respond 204` in Caddyfile.example) instead of to Amazon: the browser's
// network log, and Caddy's access log if enabled, show what the tag sent.
(function () {
  "use strict";
  window.amzn = function (command, name, fields) {
    if (command !== "trackEvent") {
      return;
    }
    var query = new URLSearchParams({ event: name });
    for (var key in fields || {}) {
      query.set(key, String(fields[key]));
    }
    // The real tag's request goes to Amazon here.
    new Image().src = "/amazon-tag-stub?" + query.toString();
  };
})();
