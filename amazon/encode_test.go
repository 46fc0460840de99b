package amazon

import (
	"bytes"
	"encoding/json"
	"testing"
)

// fuzzedEvent builds an event from fuzzed parts; flags choose which
// optional parts are present.
func fuzzedEvent(s1, s2, s3 string, f float64, n int64, flags uint16) Event {
	e := Event{
		EventDescription: EventDescription{Name: s1, ConversionType: s2, EventSource: s3, EventIngestionMethod: IngestionServerToServer},
		EventTime:        s2 + s3,
		CountryCode:      s3,
	}
	bit := func(i int) bool { return flags&(1<<i) != 0 }
	if bit(0) {
		e.EventID = s1
	}
	if bit(1) {
		e.MatchKeys = []MatchKey{{Type: s1, Values: []string{s2}}, {Type: s3}}
	}
	if bit(2) {
		e.Value = &f
	}
	if bit(3) {
		e.CurrencyCode = s2
	}
	if bit(4) {
		e.UnitsSold = &n
	}
	if bit(5) {
		e.CustomData = []CustomData{{Name: s1, Value: s2}, {Name: s3, DataType: s1, Value: ""}}
	}
	if bit(6) {
		e.DataProcessingOptions = &DataProcessingOptions{}
		if bit(7) {
			e.DataProcessingOptions.Options = s1
		}
	}
	if bit(8) {
		e.Consent = &Consent{}
		if bit(9) {
			e.Consent.Geo = &GeoConsent{IPAddress: s2}
		}
		if bit(10) {
			e.Consent.AmazonConsent = &AmazonConsent{AmznUserData: s1}
			if bit(11) {
				e.Consent.AmazonConsent.AmznAdStorage = s3
			}
		}
		if bit(12) {
			e.Consent.TCF = s3
		}
		if bit(13) {
			e.Consent.GPP = s1
		}
	}
	// The fields added later take their presence from the strings' lengths
	// (the corpus keeps its 16 flag bits).
	if len(s1)%2 == 1 {
		e.EventDescription.DataSetName = s3
	}
	if len(s2)%2 == 1 {
		e.ArefMeasurementTokens = s1
	}
	if len(s3)%2 == 1 {
		e.AmazonAdEventKey, e.Partner = s2, s1
	}
	if bit(14) {
		e.DeviceInfo = &DeviceInfo{}
		if bit(15) {
			e.DeviceInfo.UserAgent = s3
		}
	}
	return e
}

// AppendJSON writes exactly what encoding/json writes, for any event.
func FuzzAppendJSON(f *testing.F) {
	f.Add("purchase", "OFF_AMAZON_PURCHASES", "WEBSITE", 129.95, int64(3), uint16(0xffff))
	f.Add("", "", "", 0.0, int64(0), uint16(0))
	f.Add("a<b>&\"\\\n\t\x01\x7f", "\u2028\u2029é", "\xff\xfe", 1e-7, int64(-1), uint16(0x5555))
	f.Add("x", "y", "z", 1e21, int64(1<<40), uint16(0xaaaa))
	f.Add("x", "y", "z", -0.000001, int64(0), uint16(4))
	f.Fuzz(func(t *testing.T, s1, s2, s3 string, v float64, n int64, flags uint16) {
		e := fuzzedEvent(s1, s2, s3, v, n, flags)
		want, err := json.Marshal(&e)
		if err != nil {
			t.Skip() // NaN and infinities: encoding/json refuses them, and the mapping never builds them
		}
		if got := e.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON\n%s\nencoding/json\n%s", got, want)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	e := testEvent("ORDER-1001")
	buf := make([]byte, 0, 1024)
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = e.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = json.Marshal(&e)
		}
	})
}

func TestNearestSuggestsOnlyAClearNearMiss(t *testing.T) {
	e := NewEnum("option", "batch_size", "max_body", "dry_run", "api", "spool")
	for in, want := range map[string]string{
		"batch_sise": "batch_size", "BATCH_SIZE": "batch_size", "max_bdy": "max_body",
		"ap": "api", "spoo": "spool", "region": "", "x": "",
	} {
		if got := e.Nearest(in); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
	if got := NewEnum("t", "ab", "ac").Nearest("ad"); got != "" {
		t.Errorf("a tie suggested %q", got)
	}
}
