package normalize

import (
	"regexp"
	"regexp/syntax"
)

// allDigits has a bit for each of the ten digits.
const allDigits = 1<<10 - 1

// digitPattern is a metadata pattern, compiled as the library compiles it, with the
// digits a match of it can start with. The fast path only matches strings of ASCII
// digits, so a string starting with another digit cannot match from its start, and the
// regexp need not run.
type digitPattern struct {
	re    *regexp.Regexp
	first uint16 // bit d: a match can start with digit d; all bits when it can be empty
}

// compileDigitPattern compiles expr; false when it does not compile.
func compileDigitPattern(expr string) (digitPattern, bool) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return digitPattern{}, false
	}
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return digitPattern{}, false
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return digitPattern{}, false
	}
	return digitPattern{re: re, first: firstDigits(prog)}, true
}

// firstDigits returns the digits the first rune of a match of prog can be: those
// accepted by a rune instruction reachable from the start without consuming input.
// Zero-width assertions count as passed, which can only add digits; a match reachable
// without consuming input gives all digits.
func firstDigits(prog *syntax.Prog) uint16 {
	var first uint16
	seen := make([]bool, len(prog.Inst))
	stack := []uint32{uint32(prog.Start)}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		inst := &prog.Inst[pc]
		switch inst.Op {
		case syntax.InstMatch:
			return allDigits
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, inst.Out, inst.Arg)
		case syntax.InstCapture, syntax.InstEmptyWidth, syntax.InstNop:
			stack = append(stack, inst.Out)
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			first |= runeDigits(inst)
		}
	}
	return first
}

// runeDigits returns the digits a rune instruction accepts.
func runeDigits(inst *syntax.Inst) uint16 {
	var digits uint16
	for d := range 10 {
		if inst.MatchRune(rune('0' + d)) {
			digits |= 1 << d
		}
	}
	return digits
}

// mayStart reports whether a match of p can start at the beginning of s, a string of
// ASCII digits.
func (p digitPattern) mayStart(s string) bool {
	if p.first == allDigits {
		return true
	}
	return s != "" && p.first&(1<<(s[0]-'0')) != 0
}

// matches reports whether p matches s, a string of ASCII digits.
func (p digitPattern) matches(s string) bool {
	return p.mayStart(s) && p.re.MatchString(s)
}

// findStart returns the leftmost match of p in s, as FindStringIndex does, when it
// can start at the beginning of s, else nil.
func (p digitPattern) findStart(s string) []int {
	if !p.mayStart(s) {
		return nil
	}
	return p.re.FindStringIndex(s)
}
