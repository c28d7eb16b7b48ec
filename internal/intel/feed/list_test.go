package feed

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

func TestDetectType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    intel.Type
		wantErr string
	}{
		{in: "165.227.88.15", want: intel.TypeIP},
		{in: "2001:db8::1", want: intel.TypeIP},
		{in: "10.0.0.0/8", want: intel.TypeIP},
		{in: "2001:db8::/32", want: intel.TypeIP},
		{in: "r-1x.com", want: intel.TypeDomain},
		{in: "0.gravatar.com", want: intel.TypeDomain},
		{in: "*.evil.example", want: intel.TypeDomain},
		{in: "xn--80ak6aa92e.com", want: intel.TypeDomain},
		{in: "http://evil.example/x", want: intel.TypeURL},
		{in: "evil.example/path?q=1", want: intel.TypeURL},
		{in: "192.0.2.1:8080/gate.php", want: intel.TypeURL},
		{in: "d41d8cd98f00b204e9800998ecf8427e", want: intel.TypeMD5},
		{in: "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", want: intel.TypeSHA1},
		{in: strings.Repeat("ab", 32), want: intel.TypeSHA256},
		{in: strings.Repeat("cd", 64), want: intel.TypeSHA512},
		{in: "bad@evil.example", want: intel.TypeEmail},
		{in: "AS39770", wantErr: "autonomous system"},
		{in: "999.1.1.1", wantErr: "cannot tell"},
		{in: "localhost", wantErr: "cannot tell"},
		{in: "abcdef", wantErr: "cannot tell"},
		{in: "-bad.example", wantErr: "cannot tell"},
		{in: "", wantErr: "empty"},
	}
	for _, tc := range tests {
		got, err := DetectType(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("DetectType(%q) = %q, %v; want error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("DetectType(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestReadList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		typ       intel.Type
		want      []string
		wantProbs []string
	}{
		{
			name: "comments, blanks and detection",
			in: "\ufeff# header\n; slips-style comment\n\n  192.0.2.1  \nEvil.Example.\t# trailing comment\n" +
				"http://evil.example/a ; note\nbad@evil.example\r\n198.51.100.0/24\n",
			want: []string{"ip:192.0.2.1", "domain:evil.example", "url:http://evil.example/a",
				"email:bad@evil.example", "ip:198.51.100.0/24"},
		},
		{
			name:      "bad lines become problems with their line number",
			in:        "192.0.2.1\nnot_a_thing\n999.1.1.1\nAS1234\nevil.example\nhttp://:80/",
			want:      []string{"ip:192.0.2.1", "domain:evil.example"},
			wantProbs: []string{"t:2: cannot tell", "t:3: cannot tell", "t:4: autonomous system number", `t:6: url: no host in "http://:80/"`},
		},
		{
			name: "hosts file and extra columns",
			in:   "0.0.0.0 ads.example.com\n127.0.0.1\tTracker.Example.net\n203.0.113.5\t7\n",
			want: []string{"domain:ads.example.com", "domain:tracker.example.net", "ip:203.0.113.5"},
		},
		{
			name:      "fixed type",
			in:        "0123456789abcdef0123456789ABCDEF\n192.0.2.1\n",
			typ:       intel.TypeJA3,
			want:      []string{"ja3:0123456789abcdef0123456789abcdef"},
			wantProbs: []string{"t:2: ja3: want 32 hex digits"},
		},
		{
			name: "ip with port",
			in:   "192.0.2.7:4444\n[2001:db8::7]:443\n",
			want: []string{"ip:192.0.2.7", "ip:2001:db8::7"},
		},
		{name: "empty", in: "", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ins, probs, err := ReadList(strings.NewReader(tc.in), ListOptions{Name: "t", Type: tc.typ})
			if err != nil {
				t.Fatal(err)
			}
			checkIndicators(t, ins, probs)
			if got := values(ins); !slices.Equal(got, tc.want) {
				t.Errorf("indicators %q, want %q", got, tc.want)
			}
			if len(probs) != len(tc.wantProbs) {
				t.Fatalf("problems %v, want %q", probs, tc.wantProbs)
			}
			for i, p := range probs {
				if w, r, _ := strings.Cut(tc.wantProbs[i], ": "); p.Where != w || !strings.Contains(p.Reason, r) {
					t.Errorf("problem %d = %q, want %q", i, p, tc.wantProbs[i])
				}
			}
		})
	}
}

func TestReadListPortCondition(t *testing.T) {
	t.Parallel()
	ins, _, err := ReadList(strings.NewReader("192.0.2.7:4444\n"), ListOptions{Name: "t"})
	if err != nil || len(ins) != 1 {
		t.Fatalf("got %v, %v", ins, err)
	}
	want := []intel.Condition{{Field: "destination.port", Value: "4444"}}
	if !slices.Equal(ins[0].Also, want) || ins[0].Confidence != -1 {
		t.Errorf("got %+v, want Also %v and confidence -1", ins[0], want)
	}
}

// TestReadListRITA reads RITA's integration-test feed in place (GPL-3.0,
// not copied).
func TestReadListRITA(t *testing.T) {
	t.Parallel()
	path := shareddata.Path(t, "intel/rita-feed/feed.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ins, probs, err := ReadList(f, ListOptions{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ip:165.227.88.15", "domain:r-1x.com", "ip:24.220.113.36", "domain:0.gravatar.com"}
	if got := values(ins); !slices.Equal(got, want) || len(probs) != 0 {
		t.Errorf("got %q and problems %v, want %q", got, probs, want)
	}
}

func FuzzReadList(f *testing.F) {
	f.Add("192.0.2.1\n# c\nevil.example ; x\n0.0.0.0 ads.example\n", "")
	f.Add("http://x.example/a b\n[::1]:80\nAS1\n", "ip")
	f.Add("d41d8cd98f00b204e9800998ecf8427e\r\n", "ja3")
	f.Add("a@b.c\n10.0.0.0/8\n*.x.example.\n", "domain")
	f.Fuzz(func(t *testing.T, data, typ string) {
		var tt intel.Type
		if typ != "" {
			var err error
			if tt, err = intel.ParseType(typ); err != nil {
				return
			}
		}
		ins, probs, err := ReadList(strings.NewReader(data), ListOptions{Name: "fuzz", Type: tt})
		if err != nil {
			t.Fatalf("ReadList of an in-memory reader failed: %v", err)
		}
		checkIndicators(t, ins, probs)
		if lines := strings.Count(data, "\n") + 1; len(ins)+len(probs) > lines {
			t.Fatalf("%d indicators and %d problems from %d lines", len(ins), len(probs), lines)
		}
	})
}
