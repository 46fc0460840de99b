package mapping

// Notes tells what Evaluate left out of an event and why, for metrics and
// for `caddy amazon-capi try`. Nothing in it quotes a request's value,
// except Normalized, which is filled only when asked for.
type Notes struct {
	// DroppedKeys are the match keys left out of the event.
	DroppedKeys []Dropped
	// DroppedCustom are the custom attributes left out of the event.
	DroppedCustom []Dropped
	// UnknownConsent names the consent fields (amazon_consent_user_data,
	// amazon_consent_ad_storage, limited_data_use) whose value matched no
	// spelling: the event was not sent, or was sent with LIMITED_DATA_USE.
	UnknownConsent []string
	// MalformedClickTokens counts the click token pairs left out of
	// arefMeasurementTokens because they are not <token>.<unix_ms>.
	MalformedClickTokens int
	// ShowNormalized asks Evaluate to fill Normalized. It is for the
	// operator's own terminal (try --show-normalized): the values are the
	// customer's PII before hashing and must never be logged.
	ShowNormalized bool
	// Normalized holds each hashed match key's normalized value beside its
	// hash, when ShowNormalized is set.
	Normalized []NormalizedKey
	// ListInvalid asks Evaluate to fill Invalid. Evaluate's error names
	// the first field that failed (what the live handler logs); the
	// mapping tester (try) lists them all.
	ListInvalid bool
	// Invalid holds every field that made the event invalid, in the order
	// they were read, when ListInvalid is set; the first is Evaluate's
	// error. Like that error, it never quotes a request's value.
	Invalid []InvalidError
}

// Dropped is one match key or custom attribute left out of an event.
type Dropped struct {
	// Field is the config field: match_key[1] PHONE, custom brand.
	Field string
	// Type is the match key type (EMAIL, PHONE, …) or the custom
	// attribute's name.
	Type string
	// Reason is a short, fixed label (missing, invalid_email,
	// negative_integer, …), safe as a metric label.
	Reason string
	// Detail says the same in words, never quoting the value.
	Detail string
}

// NormalizedKey is a hashed match key's normalized value and hash.
type NormalizedKey struct {
	// Type is the match key type.
	Type string `json:"type"`
	// Normalized is the value before hashing (PII).
	Normalized string `json:"normalized"`
	// Hash is what Amazon receives.
	Hash string `json:"hash"`
}

func (n *Notes) dropKey(field, keyType, reason, detail string) {
	if n != nil {
		n.DroppedKeys = append(n.DroppedKeys, Dropped{Field: field, Type: keyType, Reason: reason, Detail: detail})
	}
}

func (n *Notes) dropCustom(field, name, reason, detail string) {
	if n != nil {
		n.DroppedCustom = append(n.DroppedCustom, Dropped{Field: field, Type: name, Reason: reason, Detail: detail})
	}
}

// invalid records a field that made the event invalid, when asked for.
func (n *Notes) invalid(e InvalidError) {
	if n != nil && n.ListInvalid {
		n.Invalid = append(n.Invalid, e)
	}
}
