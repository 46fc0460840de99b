package mapping

import "time"

// formatEventTime is t.UTC().Format(TimeFormat), written digit by digit:
// the general formatter is a noticeable part of building an event.
func formatEventTime(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(TimeFormat)
	}
	hour, minute, second := t.Clock()
	var b [len(TimeFormat)]byte
	putDigits(b[0:4], year)
	b[4] = '-'
	putDigits(b[5:7], int(month))
	b[7] = '-'
	putDigits(b[8:10], day)
	b[10] = 'T'
	putDigits(b[11:13], hour)
	b[13] = ':'
	putDigits(b[14:16], minute)
	b[16] = ':'
	putDigits(b[17:19], second)
	b[19] = 'Z'
	return string(b[:])
}

// putDigits writes n in decimal into b, zero-padded to len(b).
func putDigits(b []byte, n int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}
