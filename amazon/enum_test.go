package amazon

// Values returns the enum's values in sorted order (for tests that go
// through every value).
func (e Enum) Values() []string { return e.list }
