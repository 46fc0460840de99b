package amazon

import "encoding/json"

// Encode returns the JSON of each event, as Send takes it.
func Encode(events ...Event) []json.RawMessage {
	out := make([]json.RawMessage, len(events))
	for i := range events {
		out[i], _ = json.Marshal(&events[i])
	}
	return out
}
