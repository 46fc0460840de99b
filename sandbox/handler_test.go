package sandbox

import "testing"

func TestTheSandboxRefusesOverJSONWhatItRefusesInACaddyfile(t *testing.T) {
	for _, status := range []int{200, 302, 600} {
		s := &Sandbox{FailStatus: status}
		if err := s.Validate(); err == nil {
			t.Errorf("fail_status %d validated", status)
		}
	}
	if err := (&Sandbox{FailStatus: 503}).Validate(); err != nil {
		t.Error(err)
	}
}
