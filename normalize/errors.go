package normalize

import "errors"

// Reason labels returned by Reason. The set is fixed, so they can label metrics.
const (
	ReasonUnsupportedKey = "unsupported_key"
	ReasonEmpty          = "empty"
	ReasonInvalidEmail   = "invalid_email"
	ReasonInvalidPhone   = "invalid_phone"
	ReasonInvalidPostal  = "invalid_postal"
	ReasonOther          = "other"
)

// Error is the error type of Value: a rejection with a short, fixed reason label. Its
// message never contains the rejected value.
type Error struct {
	reason string
	msg    string
}

// Error returns the message, which names what is wrong but never the value.
func (e *Error) Error() string { return "normalize: " + e.msg }

// Reason returns the short label of the rejection, one of the Reason constants.
func (e *Error) Reason() string { return e.reason }

// The errors Value returns. Compare with errors.Is, or use Reason for a label.
var (
	// ErrUnsupportedKey is returned for a key type that is not a hashed match key.
	ErrUnsupportedKey = &Error{ReasonUnsupportedKey, "not a hashed key type"}
	// ErrEmpty is returned when nothing is left of the value after normalisation.
	ErrEmpty = &Error{ReasonEmpty, "empty after normalisation"}
	// ErrInvalidEmail is returned for an EMAIL that fails the reference's check.
	ErrInvalidEmail = &Error{ReasonInvalidEmail, "not an email address"}
	// ErrInvalidPhone is returned for a PHONE that is not a possible number.
	ErrInvalidPhone = &Error{ReasonInvalidPhone, "not a possible phone number"}
	// ErrInvalidPostal is returned for a POSTAL code not in the country's format.
	ErrInvalidPostal = &Error{ReasonInvalidPostal, "not a postal code in the country's format"}
)

// Reason returns a short, bounded label for an error of Value, for counting dropped
// keys: one of the Reason constants, ReasonOther for an error of another kind, and ""
// for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.reason
	}
	return ReasonOther
}
