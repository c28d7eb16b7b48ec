package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	type step struct {
		advance  time.Duration
		fail     bool // record a failure, else only ask
		wantWait time.Duration
		wantOK   bool // for an ask
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"four failures leave it open", []step{
			{0, true, 0, false}, {0, true, 0, false}, {0, true, 0, false}, {0, true, 0, false}, {0, false, 0, true}}},
		{"fifth failure locks for 15 minutes", []step{
			{0, true, 0, false}, {0, true, 0, false}, {0, true, 0, false}, {0, true, 0, false},
			{0, true, 15 * time.Minute, false}, {time.Minute, false, 14 * time.Minute, false},
			{14 * time.Minute, false, 0, true}}},
		{"failures outside the window do not add up", []step{
			{0, true, 0, false}, {0, true, 0, false}, {0, true, 0, false}, {0, true, 0, false},
			{15 * time.Minute, true, 0, false}, {0, false, 0, true}}},
		{"after lockout the count starts again", []step{
			{0, true, 0, false}, {0, true, 0, false}, {0, true, 0, false}, {0, true, 0, false},
			{0, true, 15 * time.Minute, false}, {15 * time.Minute, true, 0, false}, {0, false, 0, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			l := NewLimiter(LimitConfig{}, clock.Now)
			for i, s := range tc.steps {
				clock.Add(s.advance)
				if s.fail {
					if got := l.Fail("k"); got != s.wantWait {
						t.Errorf("step %d: Fail = %v, want %v", i, got, s.wantWait)
					}
					continue
				}
				wait, ok := l.Allow("k")
				if ok != s.wantOK || wait != s.wantWait {
					t.Errorf("step %d: Allow = %v, %v; want %v, %v", i, wait, ok, s.wantWait, s.wantOK)
				}
			}
			if _, ok := l.Allow("other"); !ok {
				t.Error("another key is limited")
			}
		})
	}
}

func TestLimiterReset(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimitConfig{MaxFailures: 2}, newFakeClock().Now)
	l.Fail("k")
	l.Reset("k")
	if l.Fail("k") != 0 {
		t.Error("failures before Reset still counted")
	}
	if l.Fail("k") == 0 {
		t.Error("two failures did not lock")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := NewLimiter(LimitConfig{MaxFailures: 3, MaxKeys: 100}, clock.Now)
	for range 3 {
		l.Fail("victim")
	}
	for i := range 1000 {
		l.Fail(fmt.Sprint("spray-", i))
		if l.Len() > 100 {
			t.Fatalf("limiter holds %d keys, bound 100", l.Len())
		}
	}
	// The locked key was the least recently failed, so it was evicted; the
	// bound wins over remembering one key.
	clock.Add(time.Hour)
	l.Fail("late")
	if l.Len() > 100 {
		t.Fatalf("limiter holds %d keys", l.Len())
	}
	if l.Len() != 1 {
		t.Errorf("expired keys not dropped: %d left", l.Len())
	}
}
