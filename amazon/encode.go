package amazon

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the event's JSON to b: the same bytes encoding/json
// writes for it (a test holds the two equal), without reflection. The spool
// writer encodes every event once with it.
func (e *Event) AppendJSON(b []byte) []byte {
	d := &e.EventDescription
	b = append(b, `{"eventDescription":{"name":`...)
	b = appendString(b, d.Name)
	b = append(b, `,"conversionType":`...)
	b = appendString(b, d.ConversionType)
	b = append(b, `,"eventSource":`...)
	b = appendString(b, d.EventSource)
	b = append(b, `,"eventIngestionMethod":`...)
	b = appendString(b, d.EventIngestionMethod)
	if d.DataSetName != "" {
		b = append(b, `,"dataSetName":`...)
		b = appendString(b, d.DataSetName)
	}
	b = append(b, `},"eventTime":`...)
	b = appendString(b, e.EventTime)
	if e.EventID != "" {
		b = append(b, `,"eventId":`...)
		b = appendString(b, e.EventID)
	}
	b = append(b, `,"countryCode":`...)
	b = appendString(b, e.CountryCode)
	b = append(b, `,"matchKeys":`...)
	b = appendMatchKeys(b, e.MatchKeys)
	if e.Value != nil {
		b = append(b, `,"value":`...)
		b = appendFloat(b, *e.Value)
	}
	if e.CurrencyCode != "" {
		b = append(b, `,"currencyCode":`...)
		b = appendString(b, e.CurrencyCode)
	}
	if e.UnitsSold != nil {
		b = append(b, `,"unitsSold":`...)
		b = strconv.AppendInt(b, *e.UnitsSold, 10)
	}
	if len(e.CustomData) > 0 {
		b = append(b, `,"customData":`...)
		b = appendCustomData(b, e.CustomData)
	}
	if o := e.DataProcessingOptions; o != nil {
		b = append(b, `,"dataProcessingOptions":{`...)
		if o.Options != "" {
			b = append(b, `"options":`...)
			b = appendString(b, o.Options)
		}
		b = append(b, '}')
	}
	if e.Consent != nil {
		b = append(b, `,"consent":`...)
		b = appendConsent(b, e.Consent)
	}
	if e.DeviceInfo != nil {
		b = append(b, `,"deviceInfo":{`...)
		if e.DeviceInfo.UserAgent != "" {
			b = append(b, `"userAgent":`...)
			b = appendString(b, e.DeviceInfo.UserAgent)
		}
		b = append(b, '}')
	}
	for _, f := range [...]struct{ key, value string }{
		{`,"amazonAdEventKey":`, e.AmazonAdEventKey},
		{`,"arefMeasurementTokens":`, e.ArefMeasurementTokens},
		{`,"partner":`, e.Partner},
	} {
		if f.value != "" {
			b = append(b, f.key...)
			b = appendString(b, f.value)
		}
	}
	return append(b, '}')
}

func appendMatchKeys(b []byte, keys []MatchKey) []byte {
	if keys == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendString(b, k.Type)
		b = append(b, `,"values":`...)
		b = appendStrings(b, k.Values)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendStrings(b []byte, values []string) []byte {
	if values == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

func appendCustomData(b []byte, data []CustomData) []byte {
	b = append(b, '[')
	for i, c := range data {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, c.Name)
		if c.DataType != "" {
			b = append(b, `,"dataType":`...)
			b = appendString(b, c.DataType)
		}
		b = append(b, `,"value":`...)
		b = appendString(b, c.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendConsent(b []byte, c *Consent) []byte {
	b = append(b, '{')
	if c.Geo != nil {
		b = append(b, `"geo":{"ipAddress":`...)
		b = appendString(b, c.Geo.IPAddress)
		b = append(b, '}')
	}
	if a := c.AmazonConsent; a != nil {
		b = comma(b)
		b = append(b, `"amazonConsent":{"amznUserData":`...)
		b = appendString(b, a.AmznUserData)
		if a.AmznAdStorage != "" {
			b = append(b, `,"amznAdStorage":`...)
			b = appendString(b, a.AmznAdStorage)
		}
		b = append(b, '}')
	}
	if c.TCF != "" {
		b = comma(b)
		b = append(b, `"tcf":`...)
		b = appendString(b, c.TCF)
	}
	if c.GPP != "" {
		b = comma(b)
		b = append(b, `"gpp":`...)
		b = appendString(b, c.GPP)
	}
	return append(b, '}')
}

// comma separates a member from the one before it, if any.
func comma(b []byte) []byte {
	if b[len(b)-1] != '{' {
		return append(b, ',')
	}
	return b
}

// appendFloat writes a number as encoding/json does (ES6 number to string).
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0') // never built: the mapping refuses such values
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-09 becomes e-9
		b = b[:n-1]
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does: HTML characters, control
// characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
