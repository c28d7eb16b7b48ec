package statedb

import (
	"context"
	"errors"
	"testing"
)

func TestSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	if _, err := d.GetSetting(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSetting(missing) err = %v, want ErrNotFound", err)
	}
	for _, tc := range []struct{ key, value string }{
		{"retention_days", "30"},
		{"retention_days", "90"}, // overwrite
		{"empty", ""},
		{"unicode", "größe ✓"},
	} {
		if err := d.SetSetting(ctx, tc.key, tc.value); err != nil {
			t.Fatalf("SetSetting(%q): %v", tc.key, err)
		}
		got, err := d.GetSetting(ctx, tc.key)
		if err != nil || got != tc.value {
			t.Errorf("GetSetting(%q) = %q, %v; want %q", tc.key, got, err, tc.value)
		}
	}
	if err := d.SetSetting(ctx, "", "x"); err == nil {
		t.Error("SetSetting with an empty key succeeded")
	}
}
