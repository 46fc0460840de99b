package normalize

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// phoneRules are the parts of one region's phonenumbers metadata that Parse uses on
// the digits of a number, with the metadata's patterns compiled the way the library
// compiles them, on first use.
type phoneRules struct {
	meta     *phonenumbers.PhoneMetadata
	once     sync.Once
	usable   bool
	cc       int32
	ccDigits string
	// international is the international prefix pattern, unanchored as Parse uses it;
	// internationalLiteral is the prefix itself when it is made of digits only.
	international        digitPattern
	internationalLiteral string
	// nationalPrefix matches the national prefix at the start ("^(?:…)"; re nil for none);
	// transform is the rule rewriting what it matched.
	nationalPrefix digitPattern
	transform      string
	// nationalNumber matches a whole national number of the region ("^(?:…)$").
	nationalNumber digitPattern
	lengths        []int32 // possible lengths, ascending
	localLengths   []int32 // lengths possible only for local dialling
}

// phoneIndex finds the rules Parse uses: by region, and for a calling code those of
// its main region (for the non-geographical codes, region "001", their own).
var phoneIndex struct {
	once     sync.Once
	byRegion map[string]*phoneRules
	byCode   [1000]*phoneRules
	known    [1000]bool // calling codes the library knows
}

// loadPhoneIndex indexes the library's metadata as the library does.
func loadPhoneIndex() {
	phoneIndex.byRegion = map[string]*phoneRules{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return
	}
	nonGeo := map[int32]*phoneRules{}
	for _, m := range coll.GetMetadata() {
		switch {
		case m.GetId() == "001":
			nonGeo[m.GetCountryCode()] = &phoneRules{meta: m}
		case phonenumbers.GetSupportedRegions()[m.GetId()]:
			phoneIndex.byRegion[m.GetId()] = &phoneRules{meta: m}
		}
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		if cc <= 0 || cc >= len(phoneIndex.known) {
			continue
		}
		phoneIndex.known[cc] = true
		if region := phonenumbers.GetRegionCodeForCountryCode(cc); region == "001" {
			phoneIndex.byCode[cc] = nonGeo[int32(cc)]
		} else {
			phoneIndex.byCode[cc] = phoneIndex.byRegion[region]
		}
	}
}

// knownCallingCode reports whether cc is a country calling code the library knows.
func knownCallingCode(cc int) bool {
	phoneIndex.once.Do(loadPhoneIndex)
	return cc > 0 && cc < len(phoneIndex.known) && phoneIndex.known[cc]
}

// rulesForRegion returns the rules of a region the library knows, or nil.
func rulesForRegion(region string) *phoneRules {
	phoneIndex.once.Do(loadPhoneIndex)
	return phoneIndex.byRegion[region].ready()
}

// rulesForCallingCode returns the rules of the main region of the calling code cc (the
// metadata Parse and IsPossibleNumber use for a number with that code), or nil.
func rulesForCallingCode(cc int32) *phoneRules {
	if !knownCallingCode(int(cc)) {
		return nil
	}
	return phoneIndex.byCode[cc].ready()
}

// ready compiles r on first use and returns it, or nil when r is nil or unusable.
func (r *phoneRules) ready() *phoneRules {
	if r == nil {
		return nil
	}
	r.once.Do(r.compile)
	if !r.usable {
		return nil
	}
	return r
}

// compile compiles the rules of r.meta. It leaves r unusable when the metadata lacks
// what the fast path relies on: a national number pattern and possible lengths
// (numbers without them take rules of their own in the library), or a pattern fails.
func (r *phoneRules) compile() {
	m := r.meta
	general := m.GetGeneralDesc()
	if general.GetNationalNumberPattern() == "" || len(general.GetPossibleLength()) == 0 {
		return
	}
	r.cc = m.GetCountryCode()
	r.ccDigits = strconv.Itoa(int(r.cc))
	r.transform = m.GetNationalPrefixTransformRule()
	r.lengths = general.GetPossibleLength()
	r.localLengths = general.GetPossibleLengthLocalOnly()
	idd := m.GetInternationalPrefix()
	if idd != "" && strings.Trim(idd, "0123456789") == "" {
		r.internationalLiteral = idd
	}
	var ok [3]bool
	r.international, ok[0] = compileDigitPattern(idd)
	r.nationalNumber, ok[1] = compileDigitPattern("^(?:" + general.GetNationalNumberPattern() + ")$")
	ok[2] = true
	if p := m.GetNationalPrefixForParsing(); p != "" {
		r.nationalPrefix, ok[2] = compileDigitPattern("^(?:" + p + ")")
	}
	r.usable = ok == [3]bool{true, true, true}
}

// internationalPrefixEnd returns where the international prefix d starts with ends, as
// Parse strips it: not when a '0' follows it, as calling codes never start with one.
func (r *phoneRules) internationalPrefixEnd(d string) (int, bool) {
	end := len(r.internationalLiteral)
	if end > 0 {
		if !strings.HasPrefix(d, r.internationalLiteral) {
			return 0, false
		}
	} else {
		loc := r.international.findStart(d)
		if loc == nil || loc[0] != 0 {
			return 0, false
		}
		end = loc[1]
	}
	if end < len(d) && d[end] == '0' {
		return 0, false
	}
	return end, true
}

// withoutOwnCallingCode returns d without the region's calling code (and national
// prefix) when Parse reads it as starting with it: d starts with the code, and either
// only the rest is a national number of the region or d is too long to be one.
func (r *phoneRules) withoutOwnCallingCode(d string) (string, bool) {
	if !strings.HasPrefix(d, r.ccDigits) {
		return "", false
	}
	national := r.stripNationalPrefix(d[len(r.ccDigits):])
	fullValid := r.nationalNumber.matches(d)
	if !fullValid && r.nationalNumber.matches(national) || r.lengthResult(d) == phonenumbers.TOO_LONG {
		return national, true
	}
	return "", false
}

// stripNationalPrefix removes the national prefix from the start of n, applying the
// transform rule, unless n is a national number of the region and the result is not.
func (r *phoneRules) stripNationalPrefix(n string) string {
	if n == "" || r.nationalPrefix.re == nil || !r.nationalPrefix.mayStart(n) {
		return n
	}
	loc := r.nationalPrefix.re.FindStringSubmatchIndex(n)
	if loc == nil {
		return n
	}
	stripped := n[loc[1]:]
	if lastGroup := len(loc)/2 - 1; r.transform != "" && loc[2*lastGroup] >= 0 {
		stripped = r.nationalPrefix.re.ReplaceAllString(n, r.transform)
	}
	if r.nationalNumber.matches(n) && !r.nationalNumber.matches(stripped) {
		return n
	}
	return stripped
}

// keepsStripped reports whether Parse keeps a number stripped of its national prefix:
// when its length is possible, or too long, for the region.
func (r *phoneRules) keepsStripped(n string) bool {
	switch r.lengthResult(n) {
	case phonenumbers.IS_POSSIBLE, phonenumbers.TOO_LONG:
		return true
	}
	return false
}

// isPossible reports whether a national significant number has a possible length for
// the region, as IsPossibleNumber does.
func (r *phoneRules) isPossible(n string) bool {
	switch r.lengthResult(n) {
	case phonenumbers.IS_POSSIBLE, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return true
	}
	return false
}

// lengthResult classifies the length of n against the region's possible lengths as
// the library does for a number of unknown type.
func (r *phoneRules) lengthResult(n string) phonenumbers.ValidationResult {
	l := int32(len(n))
	switch {
	case r.lengths[0] == -1:
		return phonenumbers.INVALID_LENGTH
	case slices.Contains(r.localLengths, l):
		return phonenumbers.IS_POSSIBLE_LOCAL_ONLY
	case r.lengths[0] == l:
		return phonenumbers.IS_POSSIBLE
	case r.lengths[0] > l:
		return phonenumbers.TOO_SHORT
	case r.lengths[len(r.lengths)-1] < l:
		return phonenumbers.TOO_LONG
	case slices.Contains(r.lengths[1:], l):
		return phonenumbers.IS_POSSIBLE
	}
	return phonenumbers.INVALID_LENGTH
}
