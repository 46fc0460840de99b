package mapping

import (
	"errors"
	"strings"
)

// consentSpellings are the ways consent managers and shops write yes and
// no, each to its meaning, compared without case and with '-' and ' '
// read as '_'. docs/configuration.md ("Consent", its consent spellings)
// lists the same table.
var consentSpellings = map[string]bool{
	"true": true, "false": false,
	"yes": true, "no": false,
	"y": true, "n": false,
	"1": true, "0": false,
	"on": true, "off": false,
	"granted": true, "denied": false,
	"grant": true, "deny": false,
	"enabled": true, "disabled": false,
	"enable": true, "disable": false,
	"opted_in": true, "opted_out": false,
	"opt_in": true, "opt_out": false,
	"optin": true, "optout": false,
	"accept": true, "reject": false,
	"accepted": true, "rejected": false,
	"allow": true, "allowed": true,
	"disallow": false, "disallowed": false,
}

// consentValue reads a yes/no spelling: known is false for a value no
// spelling matches.
func consentValue(s string) (yes, known bool) {
	key := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ':
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
	yes, known = consentSpellings[key]
	return yes, known
}

// errUnknownConsent is the reason of a consent value no spelling matches;
// it never quotes the value.
var errUnknownConsent = errors.New("not a consent value: use GRANTED/DENIED or a spelling of the consent table in docs/configuration.md (yes/no, true/false, 1/0, granted/denied, enabled/disabled, opted_in/opted_out, optin/optout, accept/reject, allow/deny)")

// parseConsentStatus maps a consent spelling to Amazon's GRANTED or DENIED.
func parseConsentStatus(s string) (string, error) {
	yes, known := consentValue(s)
	switch {
	case !known:
		return "", errUnknownConsent
	case yes:
		return "GRANTED", nil
	}
	return "DENIED", nil
}

// MapsAdStorageWithoutUserData reports whether the rule maps
// amazon_consent_ad_storage but not amazon_consent_user_data. Amazon's
// schema requires amznUserData in amazonConsent (amznAdStorage is
// optional), so such an event never sends amazonConsent: its ad storage
// only decides whether the click token is sent. Config loading warns
// about it.
func (m *Mapping) MapsAdStorageWithoutUserData() bool {
	return m.consentAdStorage.isSet() && !m.consentUserData.isSet()
}

// AdStorage gives the rule's amazon_consent_ad_storage as a Value, so that
// the same ad-storage consent can be read where no event is built (a
// click_token landing). ok is false when the rule maps none. onLanding is
// false, and v the zero Value, when it reads the request body or the
// site's answer, which a Value does not read: a landing cannot know that
// consent.
func (m *Mapping) AdStorage() (v Value, ok, onLanding bool) {
	e := m.consentAdStorage
	switch {
	case !e.isSet():
		return Value{}, false, false
	case e.readsBody() || e.readsReply():
		return Value{}, true, false
	}
	return Value{e: e}, true, true
}
