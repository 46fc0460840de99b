package mapping

import "fmt"

// InvalidError says why a request gave no event. It names the field and the
// reason and never quotes the request's values, so it is safe to log.
type InvalidError struct {
	// Event is the event block's name.
	Event string
	// Field is the config field that failed.
	Field string
	// Reason says what was wrong, in words (it may name a path of the
	// config, never a value of the request).
	Reason string
	// Code is Reason as one of a fixed set of words (the Invalid*
	// constants), for counting by reason.
	Code string
}

// Error renders the reason as one line.
func (e *InvalidError) Error() string {
	return fmt.Sprintf("event %q, field %s: %s", e.Event, e.Field, e.Reason)
}

// The codes of an InvalidError: a fixed set, so that counting invalid
// events by reason keeps a metric's labels bounded.
const (
	// InvalidNoValue is a required field with no value in the request.
	InvalidNoValue = "no_value"
	// InvalidBodyTooLarge is a body path read from a body above max_body.
	InvalidBodyTooLarge = "body_too_large"
	// InvalidBodyNotJSON is a body path read from a body that is not JSON.
	InvalidBodyNotJSON = "body_not_json"
	// InvalidNotSingle is an object or array where one value was wanted.
	InvalidNotSingle = "not_a_single_value"
	// InvalidEmpty is a required field whose value is empty.
	InvalidEmpty = "empty"
	// InvalidNotInList is a value not in its list (a currency or country
	// code, an enum of Amazon's).
	InvalidNotInList = "not_a_valid_code"
	// InvalidTime is a timestamp that cannot be read.
	InvalidTime = "bad_time"
	// InvalidNumber is a value or a number of units that cannot be read or
	// sent.
	InvalidNumber = "bad_number"
	// InvalidNegative is a negative value for OFF_AMAZON_PURCHASES.
	InvalidNegative = "negative"
	// InvalidNoMatchKey is an event none of whose match keys has a valid
	// value.
	InvalidNoMatchKey = "no_match_key"
	// InvalidConsent is a consent value no spelling matches, or an IP
	// address for consent that cannot be read.
	InvalidConsent = "unreadable_consent"
	// InvalidDuplicate is a mapped field the request carries twice (see
	// duplicate.go).
	InvalidDuplicate = "duplicate_field"
	// InvalidTooLong is a dedupe ID longer than MaxEventIDBytes, or any
	// value longer than MaxValueBytes.
	InvalidTooLong = "too_long"
	// InvalidNoConsent is an event without the consent signal
	// require_consent or the EU rule asks for.
	InvalidNoConsent = "no_consent"
)

// MaxValueBytes is the longest value any field of an event may read from
// a request (a consent string, a partner, a custom attribute before it is
// checked): a longer one makes the event invalid (too_long), so that no
// value a visitor chose reaches the spool, the dead letter or the logs
// whole. A TCF or GPP consent string, the longest real value, is a few KiB.
const MaxValueBytes = 8 << 10
